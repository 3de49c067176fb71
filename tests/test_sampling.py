import pandas as pd
import pytest

from rlvr_eval.backends import SamplingParams, load_backend
from rlvr_eval.backends.base import ContextLengthError
from rlvr_eval.benchmarks import load_benchmark
from rlvr_eval.io import read_parquet, read_parquet_metadata
from rlvr_eval.prompts import render_prompt
from rlvr_eval.sampling import SAMPLE_COLUMNS, ShardSpec, sample_shard, shard_sizes

PARAMS = SamplingParams(temperature=0.6, top_p=0.95, max_new_tokens=8)


@pytest.fixture(scope="module")
def backend(tiny_model_dir):
    return load_backend("transformers", str(tiny_model_dir))


@pytest.fixture(scope="module")
def problems(mirror):
    return load_benchmark("gsm8k", mirror, limit=5)[0]


def test_shard_sizes_split_n_into_fixed_shards():
    assert shard_sizes(8, 4) == [4, 4]
    assert shard_sizes(10, 4) == [4, 4, 2]
    assert shard_sizes(3, 4) == [3]


def test_sample_file_schema_and_metadata(backend, problems, tmp_path):
    spec = ShardSpec("tiny", "gsm8k", shard=1, shard_size=3, num_samples=3, seed=7)
    out = tmp_path / "shard-0001.parquet"
    df = sample_shard(problems, backend, spec, "qwen-boxed", PARAMS, out, chunk_size=2, progress=False)
    assert list(df.columns) == SAMPLE_COLUMNS
    assert len(df) == 5 * 3
    assert sorted(set(df["sample_index"])) == [3, 4, 5]  # shard 1 of size 3 holds samples 3..5
    assert df["finish_reason"].isin(["stop", "length"]).all()
    assert (df["num_tokens"] <= PARAMS.max_new_tokens).all() and (df["num_tokens"] >= 1).all()
    meta = read_parquet_metadata(out)
    assert meta["spec"]["seed"] == 7 and meta["params"]["temperature"] == 0.6
    assert meta["params"]["stop"] == ["<|im_end|>", "<|endoftext|>"]  # the template's stop strings
    assert meta["backend"]["backend"] == "transformers" and meta["template"] == "qwen-boxed"
    assert not out.with_name(out.name + ".partial").exists()


def test_samples_depend_on_seed_not_on_chunking(backend, problems, tmp_path):
    spec = ShardSpec("tiny", "gsm8k", shard=0, shard_size=4, num_samples=4, seed=3)
    a = sample_shard(problems, backend, spec, "qwen-boxed", PARAMS, tmp_path / "a.parquet", chunk_size=1, progress=False)
    b = sample_shard(problems, backend, spec, "qwen-boxed", PARAMS, tmp_path / "b.parquet", chunk_size=5, progress=False)
    pd.testing.assert_frame_equal(a, b)
    other_shard = ShardSpec("tiny", "gsm8k", shard=1, shard_size=4, num_samples=4, seed=3)
    c = sample_shard(problems, backend, other_shard, "qwen-boxed", PARAMS, tmp_path / "c.parquet", progress=False)
    assert c["text"].tolist() != a["text"].tolist()


def test_stale_checkpoints_of_another_configuration_are_discarded(backend, problems, tmp_path):
    out = tmp_path / "shard-0000.parquet"
    partial = out.with_name(out.name + ".partial")
    partial.mkdir()
    (partial / "fingerprint.json").write_text('{"spec": "something else"}')
    (partial / "chunk-00000.parquet").write_text("not parquet")
    spec = ShardSpec("tiny", "gsm8k", 0, 2, 2, 0)
    df = sample_shard(problems, backend, spec, "qwen-boxed", PARAMS, out, chunk_size=2, progress=False)
    assert len(df) == 10 and read_parquet(out).equals(df)


def test_prompt_plus_completion_must_fit_the_context(backend, problems, tmp_path):
    too_long = SamplingParams(temperature=0.6, top_p=0.95, max_new_tokens=100_000)
    spec = ShardSpec("tiny", "gsm8k", 0, 1, 1, 0)
    with pytest.raises(ContextLengthError, match=r"max_new_tokens \(100000\) = \d+ tokens exceeds the model's context limit of 4096"):
        sample_shard(problems, backend, spec, "qwen-boxed", too_long, tmp_path / "x.parquet", progress=False)
    assert not (tmp_path / "x.parquet.partial" / "chunk-00000.parquet").exists()  # raised before generating


def test_prompt_templates_render_the_question_verbatim():
    question = "What is {x} in \\frac{1}{2}?"
    for template in ("qwen-boxed", "qwen25-math-cot", "dapo", "r1-think", "plain"):
        prompt = render_prompt(template, question)
        assert question in prompt
    assert render_prompt("dapo", "Q").count("Answer:") == 2
    with pytest.raises(ValueError, match="unknown prompt template 'nope'"):
        render_prompt("nope", question)
