import json

import pytest

from pathlib import Path

import pandas as pd

from rlvr_eval.data.benchmarks import (BENCHMARKS, BenchmarkError, last_boxed_content, load_benchmark, mirror_path,
                                       read_jsonl)
from rlvr_eval.data.omni_math import OMNI_MATH_SPLITS, omni_math_reference, omni_math_split
from rlvr_eval.data.visual import VISUAL_BENCHMARKS

EXPECTED_ROWS = {"gsm8k": 1319, "math500": 500, "minerva_math": 272, "olympiadbench": 675, "aime24": 30, "amc23": 40,
                 "humanevalplus": 164, "mbppplus": 378, "livecodebench": 279, "livecodebench_2023_05": 879, "omni_math_train": 2000,
                 "omni_math_test": 821}
# A few rows of Omni-MATH-Rule (lines 77, 110, 382, 1751, 2240, 2311, 2403 and 2631 of the paper's file, verbatim):
# the shared mirror has no Omni-MATH-Rule (`make data` fetches it).
OMNI_FIXTURE = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize("name", sorted(set(BENCHMARKS) - set(VISUAL_BENCHMARKS)))  # visual: test_visual_benchmarks.py
def test_every_benchmark_loads_from_the_local_mirror(name, mirror):
    if name in OMNI_MATH_SPLITS and not mirror_path(name, mirror).is_file():
        pytest.skip(f"{mirror_path(name, mirror)} is not in this mirror (`make data` fetches it); "
                    "test_omni_math_rule_from_the_fixture reads the fixture")
    table, provenance = load_benchmark(name, mirror)
    assert list(table.columns) == ["problem_id", "question", "reference", "solution", "metadata"]
    assert len(table) == EXPECTED_ROWS[name] == provenance["problems"]
    assert table["problem_id"].is_unique
    assert (table["question"].str.len() > 0).all() and (table["reference"].str.len() > 0).all()
    assert len(provenance["source"]["sha256"]) == 64
    json.loads(table["metadata"].iloc[0])


def test_reference_answers_follow_each_benchmark_convention(mirror):
    def first(name):
        return load_benchmark(name, mirror, limit=1)[0].iloc[0]

    assert first("gsm8k").reference == "18"  # after ####
    assert first("math500").reference == "\\left( 3, \\frac{\\pi}{2} \\right)"
    assert first("minerva_math").reference == "1.6"  # last \boxed{} of the solution
    assert first("olympiadbench").reference == "2"  # final_answer list, $ stripped
    assert first("aime24").reference == "204"
    assert first("amc23").reference == "27"  # stored as 27.0


def test_last_boxed_content_balances_braces():
    assert last_boxed_content("so \\boxed{\\frac{1}{\\sqrt{2}}}.") == "\\frac{1}{\\sqrt{2}}"
    assert last_boxed_content("\\boxed{1} then \\boxed{2}") == "2"
    assert last_boxed_content("\\boxed 5$") == "5"
    assert last_boxed_content("no box") is None
    assert last_boxed_content("\\boxed{unclosed") is None


def test_limit_and_missing_mirror_file(mirror, tmp_path):
    table, prov = load_benchmark("gsm8k", mirror, limit=5)
    assert len(table) == 5 and prov["limit"] == 5
    with pytest.raises(BenchmarkError, match="mirror file .*gsm8k/test.jsonl does not exist"):
        load_benchmark("gsm8k", tmp_path)
    with pytest.raises(BenchmarkError, match="unknown benchmark 'gsm9k'"):
        load_benchmark("gsm9k", mirror)


def test_malformed_mirror_row_names_file_and_row(tmp_path):
    (tmp_path / "gsm8k").mkdir()
    (tmp_path / "gsm8k" / "test.jsonl").write_text('{"question": "q", "answer": "no marker"}\n')
    with pytest.raises(BenchmarkError, match=r"test.jsonl: row 0: GSM8K answer without '####'"):
        load_benchmark("gsm8k", tmp_path)


def test_a_subset_by_problem_ids(mirror):
    table, provenance = load_benchmark("aime24", mirror, problem_ids=[62, "61"])
    full, _ = load_benchmark("aime24", mirror)
    ids = full["problem_id"].tolist()
    assert table["problem_id"].tolist() == sorted(["61", "62"], key=ids.index)  # the benchmark's order
    assert provenance["problem_ids"] == ["62", "61"] and provenance["problems"] == 2
    with pytest.raises(BenchmarkError, match=r"benchmarks.aime24.problem_ids: no problem \['9999'\] in .*aime24/test.jsonl"):
        load_benchmark("aime24", mirror, problem_ids=["61", "9999"])
    with pytest.raises(BenchmarkError, match=r"ids \['61'\] are listed twice"):
        load_benchmark("aime24", mirror, problem_ids=["61", 61])


def test_livecodebench_keeps_the_contest_window_it_is_given(mirror):
    paper, provenance = load_benchmark("livecodebench", mirror)
    assert len(paper) == 279 and provenance["source"]["window"] == ["2024-08", "2025-01"]  # the paper's Figs. 3, 11 left
    wider = load_benchmark("livecodebench", mirror, window=["2023-05", "2025-01"])[0]  # its Fig. 11 right
    assert len(wider) == 879 and set(paper["problem_id"]) < set(wider["problem_id"])
    dates = [json.loads(m)["contest_date"][:7] for m in wider["metadata"]]
    assert min(dates) == "2023-05" and max(dates) == "2025-01"


def test_the_wider_livecodebench_window_is_a_benchmark_of_its_own_in_the_releases_order(mirror):
    """livecodebench_2023_05 (the paper's Fig. 11 right and Table 5) reads the same file over 2023-05 .. 2025-01 by
    default: the whole of release_v5 (879 problems in the mirror), in the file's order, which is the release's
    (release_v1's 400 problems, then each later release's additions), so that a problem's row is its Table 5 index."""
    wide, provenance = load_benchmark("livecodebench_2023_05", mirror)
    assert len(wide) == 879 and provenance["source"]["window"] == ["2023-05", "2025-01"]
    rows = read_jsonl(mirror / "livecodebench" / "test_public.jsonl")
    assert wide["problem_id"].tolist() == [r["question_id"] for r in rows]
    assert max(r["contest_date"] for r in rows[:400]) < min(r["contest_date"] for r in rows[400:511])  # v1, then v2's
    # Table 5's indices 400-450: the first of release_v2's additions (contest dates 2024-03-09 .. 2024-05-18), none
    # of them in the paper's narrower window, whose problems keep the same relative order
    assert wide["problem_id"][400] == "abc344_d" and wide["problem_id"][450] == "abc354_d"
    narrow = load_benchmark("livecodebench", mirror)[0]
    assert narrow["problem_id"].tolist() == [p for p in wide["problem_id"] if p in set(narrow["problem_id"])]
    assert not set(wide["problem_id"][400:451]) & set(narrow["problem_id"])
    # its own window may still be given, as for livecodebench
    assert len(load_benchmark("livecodebench_2023_05", mirror, window=["2024-08", "2025-01"])[0]) == 279


def test_omni_math_rule_from_the_fixture():
    """Both splits from one file: ids are line numbers, the splits partition the file, the fields are the source's;
    a file with fewer rows than the paper's is refused as a truncated copy unless the check is off."""
    train, prov = load_benchmark("omni_math_train", OMNI_FIXTURE, check_known_files=False)
    test, _ = load_benchmark("omni_math_test", OMNI_FIXTURE, check_known_files=False)
    assert (len(train), len(test)) == (6, 2)  # round(8 x 2000 / 2821) train
    assert sorted(train["problem_id"].tolist() + test["problem_id"].tolist(), key=int) == [str(i) for i in range(8)]
    assert prov["source"] | {"sha256": None} == {"kind": "mirror", "path": str(OMNI_FIXTURE / "omni_math_rule/omni_math_rule.jsonl"),
                                                  "sha256": None, "rows": 8, "split": "train", "split_seed": 0}
    table = pd.concat([train, test]).set_index("problem_id")
    assert table.loc["0", "reference"] == "6" and table.loc["7", "reference"] == "\\frac{1}{99}"  # \\( \\) removed
    assert json.loads(table.loc["7", "metadata"])["answer"] == "\\(\\frac{1}{99}\\)"  # as published
    assert table.loc["0", "question"].startswith("If $\\frac{1}{9}$ of 60 is 5")
    assert set(json.loads(table.loc["0", "metadata"])) == {"answer", "difficulty", "domain", "source"}
    with pytest.raises(BenchmarkError, match="has 8 problems, the paper's file has 2821 .*omni-math-rule@4793415e"):
        load_benchmark("omni_math_test", OMNI_FIXTURE)
    with pytest.raises(BenchmarkError, match="'omni_math_test' has no copy on the Hugging Face hub.*make data"):
        load_benchmark("omni_math_test", None)


def test_omni_math_split_is_the_papers_sizes_and_independent_of_row_order():
    problems = pd.DataFrame({"problem_id": [str(i) for i in range(2821)],
                             "question": [f"Problem {i}: find x." for i in range(2821)]})
    train, test = omni_math_split(problems, "train"), omni_math_split(problems, "test")
    assert (len(train), len(test)) == (2000, 821)
    assert not set(train["question"]) & set(test["question"])
    assert train["problem_id"].astype(int).is_monotonic_increasing  # file order kept
    shuffled = problems.sample(frac=1, random_state=1).reset_index(drop=True)
    assert set(omni_math_split(shuffled, "train")["question"]) == set(train["question"])


@pytest.mark.parametrize("published, reference", [
    ("\\[\\frac{1}{2}\\]", "\\frac{1}{2}"), ("\\[\n\\boxed{\\frac{\\pi}{4}}\n\\]", "\\frac{\\pi}{4}"), ("\\boxed{60}", "60"),
    ("\\(\\boxed{4489}\\)", "4489"), ("The number of distinct such colorings of \\( P \\) is \\(\\boxed{6}\\).", "6"),
    ("$$ 2^{n} $$", "2^{n}"), ("30(1 + \\sqrt{5})", "30(1 + \\sqrt{5})"), (" 2042222 ", "2042222"),
])
def test_omni_math_references_are_bare_final_answers(published, reference):
    """Answers as Omni-MATH-Rule's file writes some of them (its lines 110, 64, 44; test split 231, 981)."""
    assert omni_math_reference(published) == reference
