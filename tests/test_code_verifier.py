"""Code verification on the real HumanEval+ and MBPP+ files: loaders, expected outputs, evalplus's oracle,
the verdict files, and the HumanEval/95 data trap."""

from __future__ import annotations

import pandas as pd
import pytest

from rlvr_eval.data.benchmarks import load_benchmark
from rlvr_eval.code import evalplus_tests as et
from rlvr_eval.code import sandbox
from rlvr_eval.code.driver import _rows, verify_code_shard, write_expected_outputs
from rlvr_eval.code.extract import extract_code
from rlvr_eval.code.verifier import check_functional
from rlvr_eval.io import read_parquet, read_parquet_metadata, write_parquet

ISOLATION = sandbox.detect_isolation()


def test_code_is_the_last_python_block_or_the_whole_response():
    assert extract_code("Plan.\n```python\ndef f():\n    return 1\n```\nDone.") == "def f():\n    return 1\n"
    assert extract_code("```python\na = 1\n```\nthen\n```python\nb = 2\n```") == "b = 2\n"
    assert extract_code("```bash\nls\n```\ndef f(): pass") == "```bash\nls\n```\ndef f(): pass"
    assert extract_code("def f():\n    return 2\n") == "def f():\n    return 2\n"
    # a prompt that pre-fills the opening fence: the response's first block ends at its first fence
    assert extract_code("def f():\n    return 3\n```\nIt returns 3.", prefix="```python\n") == "def f():\n    return 3\n"
    assert extract_code("def f():\n    return 3\n", prefix="```python\n") == "def f():\n    return 3\n"  # cut off


@pytest.fixture(scope="module")
def humanevalplus(tmp_path_factory, mirror):
    work = tmp_path_factory.mktemp("hep")
    table, meta = load_benchmark("humanevalplus", mirror, limit=4)
    write_parquet(work / "problems.parquet", table, meta)
    write_expected_outputs(work / "problems.parquet", "humanevalplus", work / "expected.json.gz", ISOLATION, workers=2)
    return work, table


def test_humanevalplus_table_keeps_the_tests(humanevalplus):
    _, table = humanevalplus
    assert table["problem_id"].tolist() == ["HumanEval/0", "HumanEval/1", "HumanEval/2", "HumanEval/3"]
    row = _rows(table)[0]
    assert row["entry_point"] == "has_close_elements" and len(row["plus_input"]) > 100 and row["atol"] == 0


def test_verdict_file_for_canonical_wrong_and_hostile_samples(humanevalplus):
    work, table = humanevalplus
    rows = _rows(table)
    texts = {
        "canonical": lambda r: "```python\n" + r["canonical_solution"] + "```",
        "returns None": lambda r: "```python\n    return None\n```",
        "empty": lambda r: "",
        "exits": lambda r: "import sys\nsys.exit(0)\n",
    }
    samples = pd.DataFrame([{"problem_id": r["task_id"], "sample_index": i, "text": make(r)}
                            for r in rows for i, make in enumerate(texts.values())])
    write_parquet(work / "samples.parquet", samples, {"spec": {"model": "test"}})
    verdicts = verify_code_shard(work / "samples.parquet", work / "problems.parquet", work / "expected.json.gz",
                                 work / "verdicts.parquet", "humanevalplus", code_prefix="", workers=2)
    by_kind = verdicts.assign(kind=[list(texts)[i] for i in verdicts["sample_index"]]).groupby("kind")["status"]
    assert by_kind.apply(set).to_dict() == {"canonical": {"correct"}, "returns None": {"wrong"},
                                            "empty": {"no_answer"}, "exits": {"error"}}
    wrong = verdicts[verdicts["sample_index"] == 1]
    assert wrong["extracted"].str.startswith("base[0]: expected").all()
    written = read_parquet(work / "verdicts.parquet")
    assert written.columns.tolist() == verdicts.columns.tolist() and written["status"].tolist() == verdicts["status"].tolist()
    meta = read_parquet_metadata(work / "verdicts.parquet")
    assert meta["isolation"] == ISOLATION and meta["test_set"].startswith("base + plus")
    assert meta["sandbox_environment"]["packages"] == "standard library only"
    assert meta["status_counts"]["correct"] == 4


def test_export_writes_each_sample_with_its_verdict_and_the_program_evalplus_would_run(humanevalplus, tmp_path):
    """`rlvr-eval export MODEL BENCHMARK`: JSON Lines for tools outside the workflow (evalplus's task_id/solution)."""
    import json

    from rlvr_eval.cli import main

    work, table = humanevalplus
    results = tmp_path / "results"
    write_parquet(results / "data" / "humanevalplus.parquet", table)
    samples = pd.DataFrame({"problem_id": ["HumanEval/1", "HumanEval/0"], "sample_index": [0, 0],
                            "text": ["no code", "```python\n" + _rows(table)[0]["canonical_solution"] + "```"],
                            "num_tokens": [3, 40], "finish_reason": ["stop", "stop"]})
    shard = results / "samples" / "m" / "humanevalplus" / "shard-0000.parquet"
    write_parquet(shard, samples, {"spec": {"model": "m"}})
    verify_code_shard(shard, work / "problems.parquet", work / "expected.json.gz",
                      results / "verdicts" / "m" / "humanevalplus" / "code_exec" / "shard-0000.parquet",
                      "humanevalplus", code_prefix="", workers=1)
    assert main(["export", "m", "humanevalplus", "-d", str(tmp_path), "-o", str(tmp_path / "m.jsonl")]) == 0
    lines = [json.loads(line) for line in (tmp_path / "m.jsonl").read_text().splitlines()]
    assert [(x["problem_id"], x["verdicts"]["code_exec"]["status"]) for x in lines] == [
        ("HumanEval/0", "correct"), ("HumanEval/1", "error")]  # "no code" does not load
    first = lines[0]
    assert first["task_id"] == "HumanEval/0" and first["num_tokens"] == 40
    assert first["solution"] == table["question"].iloc[0] + _rows(table)[0]["canonical_solution"]  # prompt first
    assert main(["export", "other", "humanevalplus", "-d", str(tmp_path)]) == 1  # no samples: one line, exit 1


def test_mbppplus_inputs_keep_their_types_and_the_set_oracle_applies(mirror):
    table, _ = load_benchmark("mbppplus", mirror, limit=1)  # Mbpp/2: similar_elements, tuples in, set equality
    row = _rows(table)[0]
    expected = et.run_canonical("mbpp", row, ISOLATION)
    tests = et.functional_tests("mbpp", row, expected)
    assert isinstance(tests.groups["base"][0][0], tuple)
    check = lambda code: check_functional(code, tests, et.limits(), ISOLATION)  # noqa: E731
    assert check(row["canonical_solution"]).status == "passed"
    reordered = "def similar_elements(a, b):\n    return tuple(sorted(set(a) & set(b), reverse=True))\n"
    assert check(reordered).status == "passed"  # any order: evalplus's set-equality oracle for Mbpp/2
    assert check("def similar_elements(a, b):\n    return tuple(set(a))\n").status == "failed"


def test_collections_dicts_keep_their_type_as_in_evalplus(mirror):
    """Mbpp/88 returns a collections.Counter (found by bench/code_vs_evalplus.py --dataset mbpp): it travels as
    a Counter, compared as evalplus compares it (a plain dict with the same items is equal, other counts not)."""
    table, _ = load_benchmark("mbppplus", mirror, problem_ids=["Mbpp/88"])
    row = _rows(table)[0]
    tests = et.functional_tests("mbpp", row, et.run_canonical("mbpp", row, ISOLATION))
    assert type(tests.expected["base"][0]).__name__ == "Counter"
    check = lambda code: check_functional(code, tests, et.limits(), ISOLATION)  # noqa: E731
    assert check(row["canonical_solution"]).status == "passed"
    as_dict = "def freq_count(xs):\n    d = {}\n    for x in xs:\n        d[x] = d.get(x, 0) + 1\n    return d\n"
    assert check(as_dict).status == "passed"
    assert check("import collections\ndef freq_count(xs):\n    return collections.Counter(xs[1:])\n").status == "failed"


def test_a_group_without_tests_passes_as_in_evalplus(mirror):
    """Mbpp/793 has no plus inputs: evalplus passes its plus group once the program loads (found by
    bench/code_vs_evalplus.py --dataset mbpp); a wrong program still fails on the base inputs."""
    table, _ = load_benchmark("mbppplus", mirror, problem_ids=["Mbpp/793"])
    row = _rows(table)[0]
    tests = et.functional_tests("mbpp", row, et.run_canonical("mbpp", row, ISOLATION))
    assert len(tests.groups["plus"]) == 0  # stored as {}
    check = lambda code: check_functional(code, tests, et.limits(), ISOLATION)  # noqa: E731
    passed = check(row["canonical_solution"])
    assert (passed.status, passed.groups_passed) == ("passed", ("base", "plus"))
    assert check("def last(arr, x):\n    return -1\n").status == "failed"
    assert check("def last(arr, x):\n    return -1\nraise SystemExit(0)\n").status == "error"


def test_humaneval95_string_key_trap_is_reported_where_it_changes_a_verdict(mirror, tmp_path):
    """HumanEval+ stores the original test's integer key 5 as the string '5' (JSON object keys), so a program
    that crashes on a non-string key passes HumanEval+'s base inputs but fails the original HumanEval test. The
    verdict stays HumanEval+'s; the verdict file lists the sample (rlvr_eval.code.dataset_quirks)."""
    table, meta = load_benchmark("humanevalplus", mirror)
    table = table[table["problem_id"] == "HumanEval/95"].reset_index(drop=True)
    row = _rows(table)[0]
    assert {"p": "pineapple", "5": "banana", "a": "apple"} in [inp[0] for inp in row["base_input"]]
    crashes_on_int_keys = ("    if not dict:\n        return False\n"
                           "    return all(k.islower() for k in dict) or all(k.isupper() for k in dict)\n")
    write_parquet(tmp_path / "problems.parquet", table, meta)
    write_expected_outputs(tmp_path / "problems.parquet", "humanevalplus", tmp_path / "expected.json.gz", ISOLATION,
                           workers=1)
    samples = pd.DataFrame({"problem_id": "HumanEval/95", "sample_index": [0, 1],
                            "text": [row["canonical_solution"], crashes_on_int_keys]})
    write_parquet(tmp_path / "samples.parquet", samples, {})
    verdicts = verify_code_shard(tmp_path / "samples.parquet", tmp_path / "problems.parquet",
                                 tmp_path / "expected.json.gz", tmp_path / "verdicts.parquet", "humanevalplus",
                                 code_prefix="", workers=1)
    assert verdicts["status"].tolist() == ["correct", "correct"]  # HumanEval+'s verdicts, as evalplus reports them
    [quirk] = read_parquet_metadata(tmp_path / "verdicts.parquet")["dataset_quirks"]
    assert quirk["problem_id"] == "HumanEval/95" and quirk["sample_index"] == 1
    assert "string '5'" in quirk["quirk"] and "AttributeError" in quirk["original_test"]


def test_livecodebench_paper_window_stdio_and_functional_problems(mirror):
    from rlvr_eval.code import livecodebench as lcb

    table, _ = load_benchmark("livecodebench", mirror)
    assert len(table) == 279  # contest months 2024-08 to 2025-01, as the paper
    rows = {r["task_id"]: r for r in _rows(table)}
    stdio = rows["abc365_a"]  # leap year: 365 or 366 days
    assert not stdio["func_name"] and "Read the inputs from stdin" in stdio["prompt"]  # LiveCodeBench's user turn
    leap = "y = int(input())\nprint(366 if y % 400 == 0 or (y % 4 == 0 and y % 100) else 365)\n"
    limits = sandbox.Limits(wall_s=60)
    assert lcb.check(leap, stdio, limits, ISOLATION).status == "passed"
    assert lcb.check("print(365)\n", stdio, limits, ISOLATION).status == "failed"
    functional = next(r for r in rows.values() if r["func_name"])
    wrong = lcb.check("class Solution:\n    pass\n", functional, limits, ISOLATION)
    assert wrong.status == "failed" and "AttributeError" in wrong.failure
    assert lcb.stdout_matches("1.50 2\n\n", "1.5 2") and not lcb.stdout_matches("1.5 3", "1.5 2")


def test_livecodebench_hidden_tests_are_read_without_unpickling_objects():
    import base64
    import json
    import pickle
    import zlib

    from rlvr_eval.code import livecodebench as lcb

    blob = lambda obj: base64.b64encode(zlib.compress(pickle.dumps(obj))).decode()  # noqa: E731
    hidden = [{"input": "1\n", "output": "2\n", "testtype": "stdin"}]
    row = {"public_test_cases": [{"input": "0\n", "output": "1\n", "testtype": "stdin"}],
           "private_test_cases": blob(json.dumps(hidden))}
    tests, test_set = lcb.tests_of(row)
    assert test_set == "public + hidden" and tests[1] == hidden[0]
    with pytest.raises(pickle.UnpicklingError):
        lcb.hidden_tests(blob(pd.Timestamp("2024-01-01")))


def test_the_rlimits_fallback_gives_the_same_verdicts(humanevalplus):
    """Where namespaces are refused, programs still run (as nobody when root) and get the same verdicts."""
    _, table = humanevalplus
    for row in _rows(table)[:2]:
        expected = et.run_canonical("humaneval", row, "rlimits")
        tests = et.functional_tests("humaneval", row, expected)
        for code, status in ((row["prompt"] + row["canonical_solution"], "passed"), (row["prompt"] + "    return 0\n", "failed")):
            assert check_functional(code, tests, et.limits(), "rlimits").status == status


def test_evalplus_samples_jsonl_imports_and_verifies_like_sampled_code(humanevalplus, tmp_path):
    """evalplus's samples.jsonl (task_id + solution or completion) goes through the import path, then the verifier."""
    import gzip
    import json

    from rlvr_eval.code.driver import verify_code_samples
    from rlvr_eval.sampling.importing import import_shards

    work, table = humanevalplus
    rows = _rows(table)
    samples = []
    for r in rows:
        samples += [{"task_id": r["task_id"], "solution": r["prompt"] + r["canonical_solution"]},  # whole program
                    {"task_id": r["task_id"], "completion": r["canonical_solution"]},  # continues the prompt
                    {"task_id": r["task_id"], "completion": "    return None\n"}]
    path = tmp_path / "samples.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in samples))
    (shard,) = import_shards(path, table, n=3, shard_size=3)
    expected = json.loads(gzip.open(work / "expected.json.gz", "rt").read())
    verdicts = verify_code_samples(shard, table, expected, "humanevalplus", "", 2, ISOLATION, et.limits())
    by_index = verdicts.groupby("sample_index")["status"].agg(set).to_dict()
    assert by_index == {0: {"correct"}, 1: {"correct"}, 2: {"wrong"}}


def test_the_wider_livecodebench_window_is_verified_by_livecodebench_s_tests(mirror):
    """livecodebench_2023_05 (Fig. 11 right, Table 5) is graded as livecodebench is: its problems' own tests, no
    expected-output file; here abc344_a, its row 401, outside the paper's 2024-08 window."""
    from rlvr_eval.code.driver import verify_code_samples

    table, _ = load_benchmark("livecodebench_2023_05", mirror)
    assert table["problem_id"][401] == "abc344_a"
    right = "s = input()\ni = s.index('|')\nj = s.index('|', i + 1)\nprint(s[:i] + s[j + 1:])\n"
    samples = pd.DataFrame({"problem_id": ["abc344_a"] * 3, "sample_index": [0, 1, 2],
                            "text": [f"```python\n{right}```", "```python\nprint(input())\n```", ""]})
    verdicts = verify_code_samples(samples, table, None, "livecodebench_2023_05", "", 2, ISOLATION,
                                   sandbox.Limits(wall_s=60))
    assert verdicts["status"].tolist() == ["correct", "wrong", "no_answer"]
