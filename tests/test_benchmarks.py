import json

import pytest

from rlvr_eval.data.benchmarks import BENCHMARKS, BenchmarkError, last_boxed_content, load_benchmark
from rlvr_eval.data.visual import VISUAL_BENCHMARKS

EXPECTED_ROWS = {"gsm8k": 1319, "math500": 500, "minerva_math": 272, "olympiadbench": 675, "aime24": 30, "amc23": 40,
                 "humanevalplus": 164, "mbppplus": 378, "livecodebench": 279}


@pytest.mark.parametrize("name", sorted(set(BENCHMARKS) - set(VISUAL_BENCHMARKS)))  # visual: test_visual_benchmarks.py
def test_every_benchmark_loads_from_the_local_mirror(name, mirror):
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
