"""Responses generated elsewhere become ordinary sample shards; files that do not fit the benchmark are refused
naming the row."""

import json
import re

import pandas as pd
import pytest

from rlvr_eval.cli import main as rlvr_eval
from rlvr_eval.planning.config import ConfigError, validate_config
from rlvr_eval.sampling.importing import ResponseImportError, import_shards
from rlvr_eval.sampling.shards import SAMPLE_COLUMNS
from workflow_helpers import demo_config

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


# --- an imported model's entry: benchmarks and n read from its file (rlvr_eval.planning.imported) ---------------


def exported(path, benchmarks=("gsm8k",), n=4, problems=8):
    """Rows as `rlvr-eval export` writes them: each names its benchmark."""
    return write_jsonl(path, [{"model": "m", "benchmark": b, "problem_id": str(p), "sample_index": i, "text": "x"}
                              for b in benchmarks for p in range(problems) for i in range(n)])


def test_an_imported_model_needs_only_its_file(tmp_path):
    config = demo_config()
    config["models"]["one-file"] = {"responses": str(exported(tmp_path / "e.jsonl", ("math500", "gsm8k"), n=4))}
    paper = tmp_path / "paper.parquet"  # the paper harness's rows: n is the length of each row's list
    pd.DataFrame([{"question": f"q{p}", "code": ["\\boxed{1}"] * 16} for p in range(8)]).to_parquet(paper)
    integer_ids = write_jsonl(tmp_path / "r.jsonl", [{"problem_id": p, "response": "1"} for p in range(8) for _ in "ab"])
    config["models"]["by-benchmark"] = {"responses": {"math500": str(paper), "gsm8k": str(integer_ids)}}
    models = validate_config(config)["models"]
    assert (models["one-file"]["benchmarks"], models["one-file"]["n"]) == (["math500", "gsm8k"], {"math500": 4, "gsm8k": 4})
    assert models["by-benchmark"]["benchmarks"] == ["math500", "gsm8k"]
    assert models["by-benchmark"]["n"] == {"math500": 16, "gsm8k": 2}
    assert "prompt_template" not in models["one-file"] and "role" not in models["one-file"]


@pytest.mark.parametrize("entry, message", [
    ({"n": {"gsm8k": 8}}, "models.imported.n.gsm8k: 8, but {f} has 4 responses per problem on gsm8k"),
    ({"benchmarks": ["gsm8k", "math500"]}, r"models.imported.benchmarks: \['math500'\] but {f} hold\(s\) responses "
                                           r"on \['gsm8k'\] only"),
    ({"responses": {"math500": "{f}"}}, r"models.imported.responses.math500: {f} holds no responses on 'math500' "
                                       r"\(its rows name 'gsm8k'\)"),
    ({"responses": "{f}.missing"}, "models.imported.responses: no file {f}.missing"),
])
def test_an_entry_that_contradicts_its_file_is_one_error_naming_both(tmp_path, entry, message):
    f = str(exported(tmp_path / "e.jsonl"))
    config = demo_config()
    config["models"]["imported"] = {"responses": f, **{k: yaml_format(v, f) for k, v in entry.items()}}
    with pytest.raises(ConfigError, match=message.format(f=re.escape(f))):
        validate_config(config)
    agreeing = {**config["models"]["imported"], "responses": f, "n": {"gsm8k": 4}, "benchmarks": ["gsm8k"]}
    config["models"]["imported"] = agreeing  # the same values, given: no error
    assert validate_config(config)["models"]["imported"]["n"] == {"gsm8k": 4}


def yaml_format(value, f):
    if isinstance(value, str):
        return value.format(f=f)
    if isinstance(value, dict):
        return {k: yaml_format(v, f) for k, v in value.items()}
    return value


def test_a_left_out_imported_model_is_not_read(tmp_path):
    """`enabled: false` until the file is there (config.yaml's o1 responses)."""
    config = demo_config()
    config["models"]["later"] = {"responses": str(tmp_path / "not-yet.jsonl"), "enabled": False}
    config["models"]["later-too"] = {"responses": {"gsm8k": str(tmp_path / "not-yet.jsonl")}, "enabled": False}
    models = validate_config(config)["models"]
    assert "n" not in models["later"] and models["later-too"]["benchmarks"] == ["gsm8k"]
    config["models"]["later"]["enabled"] = True
    with pytest.raises(ConfigError, match="models.later.responses: no file .*not-yet.jsonl"):
        validate_config(config)


def test_problems_with_different_counts_are_refused_when_the_config_is_read(tmp_path):
    f = write_jsonl(tmp_path / "r.jsonl", [{"problem_id": p, "response": "1"} for p in ("0", "0", "1")])
    config = demo_config()
    config["models"]["imported"] = {"responses": {"gsm8k": str(f)}}
    with pytest.raises(ConfigError, match=r"models.imported.responses.gsm8k: .*r.jsonl: the problems have 1 to 2 "
                                          r"responses each; every problem needs the same n"):
        validate_config(config)


def test_rlvr_eval_import_prints_or_adds_the_minimal_entry(tmp_path, capsys):
    f = exported(tmp_path / "o1 math.jsonl", ("gsm8k",), n=4)
    assert rlvr_eval(["import", str(f), "-d", str(tmp_path)]) == 0
    out = capsys.readouterr()
    assert out.out == "  o1-math:\n    responses: o1 math.jsonl\n" and "gsm8k (n = 4)" in out.err
    config = tmp_path / "demo.yaml"
    config.write_text("# my grid\nmodels:  # weights or files\n  tiny-base: {tiny: {}, role: base, "
                      "prompt_template: qwen-boxed}\nbenchmarks:\n  gsm8k: {n: 8}\n")
    assert rlvr_eval(["import", str(f), "--name", "o1", "--config", str(config), "-d", str(tmp_path)]) == 0
    assert config.read_text() == ("# my grid\nmodels:  # weights or files\n  o1:\n    responses: o1 math.jsonl\n"
                                  "  tiny-base: {tiny: {}, role: base, prompt_template: qwen-boxed}\n"
                                  "benchmarks:\n  gsm8k: {n: 8}\n")
    assert rlvr_eval(["import", str(f), "--name", "o1", "--config", str(config)]) == 1
    assert "models.o1 exists already" in capsys.readouterr().err


def test_rlvr_eval_import_refuses_benchmarks_the_config_lacks(tmp_path, capsys):
    config = tmp_path / "demo.yaml"
    config.write_text("models:\n  a: {tiny: {}, role: base, prompt_template: qwen-boxed}\nbenchmarks:\n  gsm8k: {n: 8}\n")
    before = config.read_text()
    f = exported(tmp_path / "e.jsonl", ("gsm8k", "math500"))
    assert rlvr_eval(["import", str(f), "--config", str(config)]) == 1
    assert f"{f}: responses on 'math500', not a benchmark of {config} (known: gsm8k)" in capsys.readouterr().err
    assert config.read_text() == before
    assert rlvr_eval(["import", str(exported(tmp_path / "x.jsonl", ("gsm9k",)))]) == 1
    assert "responses on 'gsm9k', not a benchmark of rlvr_eval (known: " in capsys.readouterr().err
    rows = write_jsonl(tmp_path / "r.jsonl", [{"problem_id": "0", "response": "1"}])  # no benchmark field
    assert rlvr_eval(["import", str(rows)]) == 1
    assert "its rows name no benchmark (no `benchmark` field): give --benchmark" in capsys.readouterr().err
    assert rlvr_eval(["import", str(rows), "--benchmark", "gsm8k"]) == 0
    assert "responses:\n      gsm8k: " in capsys.readouterr().out
