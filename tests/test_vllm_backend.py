"""The vLLM backend: the context check everywhere, the real engine where vllm and a GPU exist."""

from __future__ import annotations

import importlib.util

import pandas as pd
import pytest

from rlvr_eval.backends import SamplingParams
from rlvr_eval.backends.base import token_budgets
from rlvr_eval.backends.vllm_backend import stop_token_ids


# --- runs everywhere ------------------------------------------------------------------------
def test_token_budgets_cap_at_the_context_left_after_the_prompt():
    # Qwen2.5-Math-7B: 4,096 tokens of context; 3,584 new tokens fit after a 512-token prompt, not after 700
    assert token_budgets([120, 512, 700, 4096, 5000], 3584, 4096) == [3584, 3584, 3396, 0, 0]
    assert token_budgets([10_000], 16384, None) == [16384]  # limit unknown: nothing to cap


def test_single_token_stop_strings_become_stop_token_ids(tiny_model_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    ids = stop_token_ids(tok, ["<|im_end|>", "<|endoftext|>", "Question:"])
    assert ids == [tok.convert_tokens_to_ids("<|im_end|>"), tok.convert_tokens_to_ids("<|endoftext|>")]


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed here")
def test_backend_module_imports_without_vllm_and_says_what_is_missing(tmp_path):
    from rlvr_eval.backends import load_backend

    with pytest.raises(ImportError, match=r"needs the vllm package and a GPU"):
        load_backend("vllm", str(tmp_path), tensor_parallel_size=1)


def test_one_engine_and_one_generate_call_per_chunk_with_a_seed_per_prompt(tiny_model_dir, monkeypatch):
    """The wiring against a stand-in `vllm` module (the real engine is tested below, on a GPU)."""
    import sys
    import types

    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    calls = {"llm": [], "generate": []}

    class FakeLLM:
        def __init__(self, **kwargs):
            calls["llm"].append(kwargs)
            self.model_config = types.SimpleNamespace(max_model_len=kwargs["max_model_len"] or 4096, dtype="bfloat16")

        def get_tokenizer(self):
            return tok

        def generate(self, prompts, sampling_params, use_tqdm=True):
            calls["generate"].append((prompts, sampling_params))
            outs = []
            for p, sp in zip(prompts, sampling_params):
                comps = [types.SimpleNamespace(index=i, text=f"s{sp.seed}-{i}" + ("<|im_end|>" if i else ""), token_ids=[1] * (i + 1),
                                               finish_reason="stop" if i else "length") for i in range(sp.n)]
                outs.append(types.SimpleNamespace(prompt_token_ids=p["prompt_token_ids"], outputs=comps[::-1]))
            return outs

    fake = types.ModuleType("vllm")
    fake.__version__ = "0.0-fake"
    fake.LLM = FakeLLM
    fake.SamplingParams = lambda **kw: types.SimpleNamespace(**kw)
    monkeypatch.setitem(sys.modules, "vllm", fake)
    from rlvr_eval.backends import load_backend

    backend = load_backend("vllm", str(tiny_model_dir), tensor_parallel_size=2, gpu_memory_utilization=0.8)
    assert calls["llm"][0]["tensor_parallel_size"] == 2 and calls["llm"][0]["gpu_memory_utilization"] == 0.8
    assert calls["llm"][0]["max_model_len"] is None  # the model's own limit
    params = SamplingParams(0.6, 0.95, 8, ("<|im_end|>", "<|endoftext|>"))
    out = backend.generate(["a b", "c"], 3, [5, 6], params)
    assert len(calls["generate"]) == 1  # the whole chunk in one call
    prompts, sps = calls["generate"][0]
    assert prompts[0]["prompt_token_ids"] == tok.encode("a b", add_special_tokens=False)
    assert [(sp.n, sp.seed, sp.max_tokens, sp.temperature, sp.top_p) for sp in sps] == [(3, 5, 8, 0.6, 0.95), (3, 6, 8, 0.6, 0.95)]
    assert sps[0].stop_token_ids == stop_token_ids(tok, params.stop)
    assert [c.text for c in out[1]] == ["s6-0", "s6-1", "s6-2"]  # in sample order, stop string cut
    assert [c.finish_reason for c in out[0]] == ["length", "stop", "stop"]
    assert [c.num_tokens for c in out[0]] == [1, 2, 3]
    backend.generate(["a b", "c"], 1, [5, 6], params, max_tokens=[3, 7])
    assert [sp.max_tokens for sp in calls["generate"][1][1]] == [3, 7]  # a budget per prompt
    with pytest.raises(ValueError, match=r"does not fit max_model_len 4096"):
        backend.generate(["a"], 1, [0], SamplingParams(0.6, 0.95, 4096, ()))
    assert len(calls["generate"]) == 2  # refused before generating
    assert backend.info()["vllm"] == "0.0-fake"


# --- the real engine: needs vllm and a GPU ---------------------------------------------------
def _gpu_reason() -> str | None:
    if importlib.util.find_spec("vllm") is None:
        return "vllm is not installed (it needs a CUDA machine: envs/sampling-vllm.yaml)"
    import torch

    if not torch.cuda.is_available():
        return "no CUDA GPU visible"
    return None


needs_gpu = pytest.mark.skipif(_gpu_reason() is not None, reason=f"vLLM backend on a GPU: {_gpu_reason()}")
PARAMS = SamplingParams(temperature=0.6, top_p=0.95, max_new_tokens=16, stop=("<|im_end|>", "<|endoftext|>"))


@pytest.fixture(scope="module")
def vllm_model_dir(tmp_path_factory, mirror):
    """A tiny Qwen2 model whose head size (64) vLLM's attention kernels support."""
    from rlvr_eval.benchmarks import load_benchmark
    from rlvr_eval.tiny_models import TinyModelSpec, build_tiny_model

    problems, _ = load_benchmark("gsm8k", mirror, limit=16)
    out = tmp_path_factory.mktemp("tiny-vllm-model")
    build_tiny_model(out, TinyModelSpec(seed=0, hidden_size=128, heads=2, recipe="base", train_steps=50), problems,
                     "qwen-boxed")
    return out


@pytest.fixture(scope="module")
def engine(vllm_model_dir):
    from rlvr_eval.backends import load_backend

    return load_backend("vllm", str(vllm_model_dir), tensor_parallel_size=1, gpu_memory_utilization=0.3,
                        enforce_eager=True)


@pytest.fixture(scope="module")
def problems(mirror):
    from rlvr_eval.benchmarks import load_benchmark

    return load_benchmark("gsm8k", mirror, limit=6)[0]



@pytest.mark.vllm
@needs_gpu
def test_vllm_generates_n_seeded_completions_per_prompt(engine, problems):
    from rlvr_eval.prompts import render_prompt

    prompts = [render_prompt("qwen-boxed", q) for q in problems["question"][:3]]
    out = engine.generate(prompts, 4, [11, 12, 13], PARAMS)
    assert [len(c) for c in out] == [4, 4, 4]
    for comps in out:
        for c in comps:
            assert c.finish_reason in ("stop", "length") and 1 <= c.num_tokens <= PARAMS.max_new_tokens
            assert "<|im_end|>" not in c.text
    again = engine.generate(prompts, 4, [11, 12, 13], PARAMS)
    assert again == out  # same seeds, same chunk: same samples
    other = engine.generate(prompts, 4, [21, 22, 23], PARAMS)
    assert other != out
    info = engine.info()
    assert info["backend"] == "vllm" and info["vllm"] and info["gpu_count"] >= 1 and info["gpu"]
    assert info["max_model_len"] == 4096  # the tiny model's own context


@pytest.mark.vllm
@needs_gpu
def test_vllm_sample_shard_writes_the_sample_schema_reproducibly(engine, problems, tmp_path):
    from rlvr_eval.io import read_parquet_metadata
    from rlvr_eval.sampling import SAMPLE_COLUMNS, ShardSpec, sample_shard

    spec = ShardSpec("tiny", "gsm8k", 1, 4, 4, 42)
    a = sample_shard(problems, engine, spec, "qwen-boxed", PARAMS, tmp_path / "a.parquet", checkpoint_samples=8, progress=False)
    assert list(a.columns) == SAMPLE_COLUMNS
    assert len(a) == len(problems) * 4 and sorted(set(a["sample_index"])) == [4, 5, 6, 7]
    meta = read_parquet_metadata(tmp_path / "a.parquet")
    assert meta["backend"]["backend"] == "vllm" and meta["resumed_chunks"] == 0
    b = sample_shard(problems, engine, spec, "qwen-boxed", PARAMS, tmp_path / "b.parquet", checkpoint_samples=8, progress=False)
    pd.testing.assert_frame_equal(a, b)
