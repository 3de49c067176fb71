"""The vLLM backend: the context check everywhere; the real engine where vllm imports (vLLM's CPU build in
.venv-vllm, `make test-vllm`, or a GPU build). One engine for the module: it takes about 30 s to start on 2 cores."""

from __future__ import annotations

import importlib.util

import pandas as pd
import pytest

from rlvr_eval.sampling.backends import SamplingParams
from rlvr_eval.sampling.backends.base import token_budgets
from rlvr_eval.sampling.backends.vllm_backend import stop_token_ids
from workflow_helpers import kill_after_first_checkpoint


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
    from rlvr_eval.sampling.backends import load_backend

    with pytest.raises(ImportError, match=r"needs the vllm package and a GPU"):
        load_backend("vllm", str(tmp_path), tensor_parallel_size=1)


def test_the_demo_vllm_overlay_sets_the_engine_options_of_vllms_cpu_build():
    """config/demo-vllm.yaml merged on the demo as Snakemake merges `--configfile a b`."""
    import yaml
    from snakemake.utils import update_config

    from rlvr_eval.planning.config import validate_config
    from rlvr_eval.planning.grid import Grid
    from workflow_helpers import REPO, demo_config

    config = demo_config()
    update_config(config, yaml.safe_load((REPO / "config" / "demo-vllm.yaml").read_text()))
    grid = Grid(validate_config(config))
    for model in ("tiny-base", "tiny-rl"):
        assert grid.backend(model) == "vllm"
        assert grid.backend_options(model) == {"tensor_parallel_size": 1, "gpu_memory_utilization": 0.1,
                                               "enforce_eager": True, "dtype": "float32", "enable_chunked_prefill": False}
    assert grid.shards("tiny-base", "gsm8k") == ["0000"]  # one engine start per model and benchmark
    assert config["models"]["tiny-rl"]["tiny"]["init_from"] == "tiny-base"  # the demo's models, untouched


def test_one_engine_and_one_generate_call_per_chunk_with_a_seed_per_prompt(tiny_model_dir, monkeypatch):
    """The wiring against a stand-in `vllm` module (the real engine is tested below)."""
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
                                               finish_reason="stop" if i else "length", cumulative_logprob=-0.5 * (i + 1),
                                               logprobs=None) for i in range(sp.n)]
                outs.append(types.SimpleNamespace(prompt_token_ids=p["prompt_token_ids"], outputs=comps[::-1]))
            return outs

    fake = types.ModuleType("vllm")
    fake.__version__ = "0.0-fake"
    fake.LLM = FakeLLM
    fake.SamplingParams = lambda **kw: types.SimpleNamespace(**kw)
    monkeypatch.setitem(sys.modules, "vllm", fake)
    monkeypatch.setitem(sys.modules, "vllm.platforms",
                        types.SimpleNamespace(current_platform=types.SimpleNamespace(device_type="cuda")))
    from rlvr_eval.sampling.backends import load_backend

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
    assert all(sp.logprobs == 0 for sp in sps) and [c.logprob_sum for c in out[0]] == [-0.5, -1.0, -1.5]
    backend.generate(["a b", "c"], 1, [5, 6], params, max_tokens=[3, 7])
    assert [sp.max_tokens for sp in calls["generate"][1][1]] == [3, 7]  # a budget per prompt
    with pytest.raises(ValueError, match=r"does not fit max_model_len 4096"):
        backend.generate(["a"], 1, [0], SamplingParams(0.6, 0.95, 4096, ()))
    assert len(calls["generate"]) == 2  # refused before generating
    assert backend.info()["vllm"] == "0.0-fake" and backend.info()["device"] == "cuda"


# --- the real engine: vLLM's CPU build (.venv-vllm) or a GPU -------------------------------------
PARAMS = SamplingParams(temperature=0.6, top_p=0.95, max_new_tokens=16, stop=("<|im_end|>", "<|endoftext|>"))

# A kill-and-resume run in its own process. A script that builds a vllm.LLM needs the __main__ guard: the engine
# starts in a spawned process, which imports the main module again.
SAMPLING_SCRIPT = """
import json, sys
from rlvr_eval.sampling.backends import SamplingParams, load_backend
from rlvr_eval.data.benchmarks import load_benchmark
from rlvr_eval.sampling.shards import ShardSpec, sample_shard

if __name__ == "__main__":
    model_dir, mirror, out, args = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    backend = load_backend("vllm", model_dir, **args["engine"])
    problems = load_benchmark("gsm8k", mirror, limit=args["problems"])[0]
    params = SamplingParams(**{**args["params"], "stop": tuple(args["params"]["stop"])})
    sample_shard(problems, backend, ShardSpec(**args["spec"]), "qwen-boxed", params, out, checkpoint_samples=4,
                 progress=False)
"""


def engine_options() -> dict:
    """vllm.LLM options for the tests: on vLLM's CPU build gpu_memory_utilization is the share of RAM for the KV
    cache (the default 0.9 fails), enforce_eager skips torch.compile (engine start 27 s instead of 46 s) and
    float32 keeps the transformers backend's precision (the CPU build would run float32 weights in bfloat16), and
    without chunked prefill the CPU build does not die on seeded requests (see the test below)."""
    from vllm.platforms import current_platform

    if current_platform.is_cpu():
        return {"gpu_memory_utilization": 0.1, "enforce_eager": True, "dtype": "float32",
                "enable_chunked_prefill": False}
    return {"gpu_memory_utilization": 0.3, "enforce_eager": True}


@pytest.fixture(scope="module")
def vllm_model_dir(tmp_path_factory, mirror):
    """A tiny Qwen2 model whose head size (64) vLLM's attention kernels support."""
    from rlvr_eval.data.benchmarks import load_benchmark
    from rlvr_eval.models.tiny_spec import TinyModelSpec
    from rlvr_eval.models.tiny_text import build_tiny_model

    problems, _ = load_benchmark("gsm8k", mirror, limit=16)
    out = tmp_path_factory.mktemp("tiny-vllm-model")
    build_tiny_model(out, TinyModelSpec(seed=0, hidden_size=128, heads=2, recipe="base", train_steps=50), problems,
                     "qwen-boxed")
    return out


@pytest.fixture(scope="module")
def engine(vllm_model_dir):
    from rlvr_eval.sampling.backends import load_backend

    backend = load_backend("vllm", str(vllm_model_dir), tensor_parallel_size=1, **engine_options())
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def problems(mirror):
    from rlvr_eval.data.benchmarks import load_benchmark

    return load_benchmark("gsm8k", mirror, limit=6)[0]


@pytest.mark.vllm
def test_vllm_generates_n_seeded_completions_per_prompt(engine, problems):
    from rlvr_eval.sampling.prompts import render_prompt

    prompts = [render_prompt("qwen-boxed", q) for q in problems["question"][:3]]
    out = engine.generate(prompts, 4, [11, 12, 13], PARAMS)
    assert [len(c) for c in out] == [4, 4, 4]
    for comps in out:
        for c in comps:
            assert c.finish_reason in ("stop", "length") and 1 <= c.num_tokens <= PARAMS.max_new_tokens
            assert "<|im_end|>" not in c.text
    again = engine.generate(prompts, 4, [11, 12, 13], PARAMS)
    assert again == out  # same seeds, same engine: same samples
    other = engine.generate(prompts, 4, [21, 22, 23], PARAMS)
    assert other != out
    info = engine.info()
    assert info["backend"] == "vllm" and info["vllm"] and info["max_model_len"] == 4096  # the tiny model's own context
    if info["device"] == "cpu":
        assert info["gpu_count"] == 0 and info["gpu_memory_utilization"] == 0.1 and info["dtype"] == "torch.float32"
    else:
        assert info["gpu_count"] >= 1 and info["gpu"]


@pytest.mark.vllm
def test_the_n_samples_of_a_prompt_are_the_draws_of_seeds_seed_to_seed_plus_n_minus_1(engine, problems):
    """What the project relies on: vLLM splits a request with n > 1 and seed s into n requests with seeds
    s, s+1, ..., s+n-1 (vllm/v1/engine/parallel_sampling.py), each sampled from its own torch.Generator seeded
    with that seed. So the n samples of a prompt are n different draws, never copies of one."""
    from rlvr_eval.sampling.prompts import render_prompt

    prompts = [render_prompt("qwen-boxed", q) for q in problems["question"][:3]]
    together = engine.generate(prompts, 4, [100, 200, 300], PARAMS)
    for j in range(4):
        alone = engine.generate(prompts, 1, [100 + j, 200 + j, 300 + j], PARAMS)
        assert [a[0] for a in alone] == [t[j] for t in together]
    assert any(len({c.text for c in comps}) > 1 for comps in together)


@pytest.mark.vllm
def test_engine_seeding_sends_requests_without_seeds(engine, problems, monkeypatch):
    """`sampling.seeding: engine`: the engine's own generator draws for every request, so the same call twice
    draws anew (per-request seeds would repeat it) and the prompts' own seeds play no part."""
    from rlvr_eval.sampling.prompts import render_prompt

    prompts = [render_prompt("qwen-boxed", q) for q in problems["question"][:3]]
    seeded = engine.generate(prompts, 4, [1, 2, 3], PARAMS)
    monkeypatch.setattr(engine, "seeding", "engine")
    assert engine.info()["seeding"] == "engine"
    first, second = (engine.generate(prompts, 4, [1, 2, 3], PARAMS) for _ in range(2))
    assert first != second and first != seeded and [len(c) for c in first] == [4, 4, 4]


@pytest.mark.vllm
def test_a_chunk_beyond_one_steps_token_budget_samples_with_seeds(engine, mirror):
    """32 prompts x 8 samples: about 47k prompt tokens, more than one engine step takes (4,096). vLLM's CPU build
    0.32 with chunked prefill splits a prefill, then rewinds the seeded request's generator, which a CPU generator
    cannot do: the engine dies ("CPU Generator does not use offset"). The CPU options turn chunked prefill off."""
    from rlvr_eval.data.benchmarks import load_benchmark
    from rlvr_eval.sampling.prompts import render_prompt

    questions = load_benchmark("math500", mirror, limit=32)[0]["question"]
    prompts = [render_prompt("qwen-boxed", q) for q in questions]
    assert sum(len(engine.encode(p)) for p in prompts) * 8 > 4096
    out = engine.generate(prompts, 8, list(range(len(prompts))), PARAMS)
    assert [len(c) for c in out] == [8] * len(prompts)


@pytest.mark.vllm
def test_streaming_gives_the_samples_of_one_blocking_generate_as_each_prompt_finishes(engine, problems):
    """`generate_stream` (what sample_shard uses: every prompt at once, each kept as it finishes) samples what
    `generate` samples for the same seeds: the chunked design's samples stay the same."""
    from rlvr_eval.sampling.prompts import render_prompt

    prompts = [render_prompt("qwen-boxed", q) for q in problems["question"]]
    seeds, budgets = [7 * i for i in range(len(prompts))], [4, 16, 8, 16, 2, 12][: len(prompts)]
    streamed = list(engine.generate_stream(prompts, 3, seeds, PARAMS, budgets))
    assert sorted(i for i, _ in streamed) == list(range(len(prompts)))
    assert dict(streamed) == dict(enumerate(engine.generate(prompts, 3, seeds, PARAMS, budgets)))
    first = next(engine.generate_stream(prompts, 3, seeds, PARAMS, budgets))  # a caller that stops early ...
    assert dict(engine.generate_stream(prompts, 3, seeds, PARAMS, budgets))[first[0]] == first[1]  # ... leaves it empty


@pytest.mark.vllm
def test_vllm_caps_each_prompts_budget_at_the_context_it_leaves(engine, vllm_model_dir, problems, tmp_path):
    """Both backends count prompt tokens alike; a shard whose max_new_tokens cannot fit after its prompts is
    sampled with each prompt's budget capped at what the context leaves (recorded), never refused or truncated."""
    from rlvr_eval.sampling.backends import load_backend
    from rlvr_eval.sampling.prompts import render_prompt
    from rlvr_eval.sampling.shards import ShardSpec, sample_shard

    hf = load_backend("transformers", str(vllm_model_dir))
    prompts = [render_prompt("qwen-boxed", q) for q in problems["question"]]
    assert engine.prompt_lengths(prompts) == hf.prompt_lengths(prompts)
    assert engine.context_limit == hf.context_limit
    lengths = engine.prompt_lengths(prompts)
    params = SamplingParams(0.6, 0.95, engine.context_limit - min(lengths) - 8, ("<|im_end|>", "<|endoftext|>"))
    df = sample_shard(problems, engine, ShardSpec("tiny", "gsm8k", 0, 2, 2, 3), "qwen-boxed", params,
                      tmp_path / "capped.parquet", progress=False)
    budgets = dict(zip(problems["problem_id"], token_budgets(lengths, params.max_new_tokens, engine.context_limit)))
    assert (df["max_tokens"] == df["problem_id"].map(budgets)).all() and (df["num_tokens"] <= df["max_tokens"]).all()
    assert (df["max_tokens"] < params.max_new_tokens).sum() >= 2  # the longer prompts were capped


@pytest.mark.vllm
def test_vllm_sample_shard_writes_the_sample_schema_reproducibly(engine, problems, tmp_path):
    from rlvr_eval.io import read_parquet_metadata
    from rlvr_eval.sampling.shards import SAMPLE_COLUMNS, ShardSpec, sample_shard

    spec = ShardSpec("tiny", "gsm8k", 1, 4, 4, 42)
    a = sample_shard(problems, engine, spec, "qwen-boxed", PARAMS, tmp_path / "a.parquet", checkpoint_samples=8, progress=False)
    assert list(a.columns)[: len(SAMPLE_COLUMNS)] == SAMPLE_COLUMNS
    assert len(a) == len(problems) * 4 and sorted(set(a["sample_index"])) == [4, 5, 6, 7]
    meta = read_parquet_metadata(tmp_path / "a.parquet")
    assert meta["backend"]["backend"] == "vllm" and meta["resumed_problems"] == 0
    assert meta["checkpoints"] == "each finished problem"
    b = sample_shard(problems, engine, spec, "qwen-boxed", PARAMS, tmp_path / "b.parquet", checkpoint_samples=8, progress=False)
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.vllm
def test_a_vllm_sampling_process_killed_mid_shard_resumes_from_its_checkpoints(engine, vllm_model_dir, mirror,
                                                                               tmp_path):
    """A real process (and its engine processes) SIGKILLed after its first finished problem; the rerun completes
    the shard from the checkpoints and equals an uninterrupted run (same engine options, same machine)."""
    import json
    import sys

    from rlvr_eval.data.benchmarks import load_benchmark
    from rlvr_eval.io import read_parquet_metadata
    from rlvr_eval.sampling.shards import ShardSpec, sample_shard

    num_problems = 96  # enough work that the kill lands mid-shard even when the test's own polling is slowed by load
    spec = ShardSpec("tiny", "gsm8k", 0, 4, 4, 7)
    params = SamplingParams(0.6, 0.95, 64, ("<|im_end|>", "<|endoftext|>"))
    out = tmp_path / "shard-0000.parquet"
    partial = out.with_name(out.name + ".partial")
    script = tmp_path / "sample_one_shard.py"
    script.write_text(SAMPLING_SCRIPT)
    args = {"engine": engine_options(), "problems": num_problems, "spec": spec.__dict__, "params": params.to_dict()}
    kill_after_first_checkpoint([sys.executable, str(script), str(vllm_model_dir), str(mirror), str(out), json.dumps(args)],
                                tmp_path, partial, tmp_path / "killed.log", timeout=300)
    done = (partial / "finished.jsonl").read_bytes().count(b"\n")  # problems checkpointed one by one
    assert not out.exists(), "the shard finished before it could be killed"
    assert 1 <= done < num_problems

    problems = load_benchmark("gsm8k", mirror, limit=num_problems)[0]
    resumed = sample_shard(problems, engine, spec, "qwen-boxed", params, out, checkpoint_samples=4, progress=False)
    assert read_parquet_metadata(out)["resumed_problems"] >= done
    assert not partial.exists() and len(resumed) == num_problems * 4
    fresh = sample_shard(problems, engine, spec, "qwen-boxed", params, tmp_path / "fresh.parquet", checkpoint_samples=4,
                         progress=False)
    pd.testing.assert_frame_equal(resumed, fresh)


@pytest.mark.vllm
def test_vllm_prompt_logprob_perplexity_equals_the_transformers_backends(engine, vllm_model_dir, problems):
    from rlvr_eval.analysis.perplexity import score_responses
    from rlvr_eval.sampling.prompts import render_prompt

    prompts = [render_prompt("qwen-boxed", q) for q in problems["question"]]
    sampled = engine.generate(prompts, 2, list(range(len(prompts))), PARAMS)
    rows = [(pid, j, c.text) for pid, comps in zip(problems["problem_id"], sampled) for j, c in enumerate(comps)]
    rows += [(pid, 2, text) for pid, text in zip(problems["problem_id"], problems["solution"])]  # longer, other text
    responses = pd.DataFrame(rows, columns=["problem_id", "sample_index", "text"])
    kw = dict(responses=responses, problems=problems, template="qwen-boxed", scored_model="tiny", response_model="tiny")
    hf = score_responses(vllm_model_dir, backend="transformers", **kw)
    vl = score_responses(vllm_model_dir, backend="vllm", engine_kwargs=engine_options(), **kw)
    assert (hf["num_tokens"] == vl["num_tokens"]).all() and (hf["num_tokens"] > 0).all()
    assert vl["mean_logprob"].to_numpy() == pytest.approx(hf["mean_logprob"].to_numpy(), rel=1e-3)
    assert vl["perplexity"].to_numpy() == pytest.approx(hf["perplexity"].to_numpy(), rel=1e-3)


@pytest.mark.vllm
def test_vllm_keeps_each_samples_log_prob_sum_as_the_model_computes_it(engine, vllm_model_dir, problems):
    """logprob_sum from vLLM (logprobs=0) equals the sum of the model's own log-probs of the sampled tokens, computed
    by one transformers forward pass (temperature 1, before top-p) within 1e-3 relative."""
    import torch
    import vllm
    from transformers import AutoModelForCausalLM

    from rlvr_eval.sampling.prompts import render_prompt

    prompts = [render_prompt("qwen-boxed", q) for q in problems["question"][:2]]
    completions = engine.generate(prompts, 2, [5, 6], PARAMS)
    # the same requests again, for the token ids (same seeds: the same draws)
    raw = engine.llm.generate([{"prompt_token_ids": engine.encode(p)} for p in prompts],
                              [vllm.SamplingParams(n=2, temperature=PARAMS.temperature, top_p=PARAMS.top_p, seed=s,
                                                   max_tokens=PARAMS.max_new_tokens, stop=list(PARAMS.stop),
                                                   stop_token_ids=stop_token_ids(engine.tokenizer, PARAMS.stop),
                                                   logprobs=0) for s in (5, 6)],
                              use_tqdm=False)
    model = AutoModelForCausalLM.from_pretrained(vllm_model_dir, dtype=torch.float32).eval()
    for prompt, comps, out in zip(prompts, completions, raw):
        for c, o in zip(comps, sorted(out.outputs, key=lambda o: o.index)):
            prompt_ids, ids = engine.encode(prompt), list(o.token_ids)
            assert len(ids) == c.num_tokens
            with torch.no_grad():
                logits = model(torch.tensor([prompt_ids + ids])).logits[0, len(prompt_ids) - 1:-1]
            expected = torch.log_softmax(logits, -1).gather(1, torch.tensor(ids)[:, None]).sum().item()
            assert c.logprob_sum == pytest.approx(expected, rel=1e-3) and c.logprob_sum < 0
