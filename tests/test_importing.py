"""Responses generated elsewhere become ordinary sample shards; files that do not fit the benchmark are refused
naming the row."""

import json

import pandas as pd
import pytest

from rlvr_eval.sampling.importing import ResponseImportError, import_shards
from rlvr_eval.sampling.shards import SAMPLE_COLUMNS

PROBLEMS = pd.DataFrame({"problem_id": ["p0", "p1"], "question": ["What is 1+1?", "What is 2+2?"],
                         "reference": ["2", "4"], "solution": "", "metadata": "{}"})


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_the_paper_codes_output_one_row_per_problem_with_a_list_of_responses(tmp_path):
    """As the Qwen2.5-Math harness writes it (`idx`, `question`, `code`: the responses, `finish_reason`)."""
    f = write_jsonl(tmp_path / "out.jsonl", [
        {"idx": 1, "question": "What is 2+2?", "code": ["\\boxed{4}", "\\boxed{5}", "4", "x"], "gt": "4"},
        {"idx": 0, "question": "What is 1+1? ", "code": ["\\boxed{2}"] * 4, "finish_reason": ["stop"] * 4},
    ])
    first, second = import_shards(f, PROBLEMS, n=4, shard_size=3)
    assert list(first.columns) == SAMPLE_COLUMNS
    assert first["problem_id"].tolist() == ["p0"] * 3 + ["p1"] * 3  # benchmark order, then sample index
    assert first["sample_index"].tolist() == [0, 1, 2] * 2 and second["sample_index"].tolist() == [3, 3]
    assert first.loc[first["problem_id"] == "p1", "text"].tolist() == ["\\boxed{4}", "\\boxed{5}", "4"]
    assert set(first.loc[first["problem_id"] == "p0", "finish_reason"]) == {"stop"}
    assert set(first.loc[first["problem_id"] == "p1", "finish_reason"]) == {"imported"}


def test_one_row_per_response_by_problem_id(tmp_path):
    rows = [{"problem_id": p, "sample_index": i, "response": f"\\boxed{{{i}}}"} for p in ("p1", "p0") for i in (1, 0)]
    (shard,) = import_shards(write_jsonl(tmp_path / "r.jsonl", rows), PROBLEMS, n=2, shard_size=2)
    assert shard[["problem_id", "sample_index", "text"]].values.tolist() == [
        ["p0", 0, "\\boxed{0}"], ["p0", 1, "\\boxed{1}"], ["p1", 0, "\\boxed{0}"], ["p1", 1, "\\boxed{1}"]]
    pd.DataFrame(rows).to_parquet(tmp_path / "r.parquet")
    pd.testing.assert_frame_equal(import_shards(tmp_path / "r.parquet", PROBLEMS, n=2, shard_size=2)[0], shard)


@pytest.mark.parametrize("rows, message", [
    ([{"question": "What is 3+3?", "response": "6"}], "r.jsonl row 0: no problem of the benchmark has this exact question"),
    ([{"problem_id": "p9", "response": "6"}], "r.jsonl row 0: problem_id 'p9' is not in the benchmark"),
    ([{"problem_id": "p0", "sample_index": 0, "response": "a"}, {"problem_id": "p0", "sample_index": 0, "response": "b"}],
     "r.jsonl row 1: problem p0 has sample index 0 twice"),
    ([{"problem_id": "p0", "response": "a"}, {"problem_id": "p1", "response": "b"}, {"problem_id": "p1", "response": "c"}],
     "r.jsonl row 0: problem p0 has 1 responses numbered up to 0; the config asks for n = 2"),
    ([{"problem_id": "p0", "response": "a"}, {"problem_id": "p0", "response": "b"}], "problem p1 has no response"),
])
def test_responses_that_do_not_fit_are_refused_naming_the_row(tmp_path, rows, message):
    with pytest.raises(ResponseImportError, match=message.replace("(", r"\(").replace("+", r"\+")):
        import_shards(write_jsonl(tmp_path / "r.jsonl", rows), PROBLEMS, n=2, shard_size=2)
