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


EIGHT = pd.DataFrame({"problem_id": ["p0"], "question": ["What is 1+1?"], "reference": ["2"], "solution": "",
                      "metadata": "{}"})


def test_a_response_without_its_finish_reason_is_refused_not_dropped(tmp_path):
    """9 responses but 8 finish reasons: pairing them up would silently import 8 (exactly the n asked for)."""
    f = write_jsonl(tmp_path / "out.jsonl", [{"question": "What is 1+1?", "code": ["\\boxed{2}"] * 9,
                                             "finish_reason": ["stop"] * 8}])
    with pytest.raises(ResponseImportError,
                       match=r"out.jsonl row 0: `code` has 9 responses but `finish_reason` has 8 entries"):
        import_shards(f, EIGHT, n=8, shard_size=8)


def test_the_papers_per_response_lists_must_align_in_parquet_too(tmp_path):
    rows = pd.DataFrame([{"question": "What is 1+1?", "code": ["\\boxed{2}"] * 8, "pred": ["2"] * 7}])
    rows.to_parquet(tmp_path / "out.parquet")
    with pytest.raises(ResponseImportError, match=r"out.parquet row 0: `code` has 8 responses but `pred` has 7"):
        import_shards(tmp_path / "out.parquet", EIGHT, n=8, shard_size=8)
    rows.assign(pred=[["2"] * 8]).to_parquet(tmp_path / "out.parquet")
    assert len(import_shards(tmp_path / "out.parquet", EIGHT, n=8, shard_size=8)[0]) == 8


@pytest.mark.parametrize("indices, message", [
    (["abc"] + list(range(1, 8)), "row 0: sample_index 'abc' is not a non-negative integer"),
    ([i + 0.5 for i in range(8)], "row 0: sample_index 0.5 is not a non-negative integer"),  # not truncated to 0 … 7
    ([True] + list(range(1, 8)), "row 0: sample_index True is not a non-negative integer"),
])
def test_a_sample_index_that_is_not_an_integer_is_refused(tmp_path, indices, message):
    rows = [{"problem_id": "p0", "sample_index": i, "response": "2"} for i in indices]
    with pytest.raises(ResponseImportError, match=message):
        import_shards(write_jsonl(tmp_path / "r.jsonl", rows), EIGHT, n=8, shard_size=8)


def test_integral_sample_indices_in_any_spelling_are_read(tmp_path):
    rows = [{"problem_id": "p0", "sample_index": i, "response": "2"} for i in (0, 1.0, "2", 3, 4, 5, 6, 7)]
    (shard,) = import_shards(write_jsonl(tmp_path / "r.jsonl", rows), EIGHT, n=8, shard_size=8)
    assert shard["sample_index"].tolist() == list(range(8))
