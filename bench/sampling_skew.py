"""Sampling throughput on a workload of skewed lengths (most samples short, a few running to the budget, as real
base and RL outputs do), three ways on one engine, interleaved (the order rotating from one round to the next),
medians of --repeats runs:

- the project: `sample_shard` with the vLLM backend, which streams (every prompt at once, each problem
  checkpointed as it finishes);
- the previous chunked design: the same `sample_shard` made to call `generate` chunk by chunk (about
  --checkpoint-samples samples each), each chunk waiting for its slowest sample;
- the physical best here: one `LLM.generate` call with every request (through the backend's thin `generate`), no
  checkpoints.

The workload: the tests' tiny Qwen2 model with its output layer zeroed, so every next token is uniform over the
vocabulary (temperature 1, top-p 1), and a stop string that about 1 token in --mean-length contains: lengths are
geometric, most short, about exp(-budget / mean) of them reaching --max-new-tokens. The same prompts, seeds and
parameters everywhere. Target (issue #24): the project at >= 0.95x bare vLLM's tokens/s. Last, the project's own
work per shard is timed alone (`sample_shard` over the completions already made): the part of any gap that is not
the engine's run-to-run noise.

    .venv-vllm/bin/python bench/sampling_skew.py --json bench/results/sampling_skew-cpu.json
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path


class Instant:
    """The backend with its completions already made: `sample_shard` over it measures the project's own work per
    shard (prompts, checkpoint log, shard file, archive), which is all that can set it apart from bare vLLM."""

    def __init__(self, backend, completions):
        self.backend, self.completions = backend, completions

    def __getattr__(self, name):
        return getattr(self.backend, name)

    def generate_stream(self, prompts, n, seeds, params, budgets):
        yield from enumerate(self.completions)


class Chunked:
    """The vLLM backend as the chunked design used it: `generate` per chunk, no streaming."""

    def __init__(self, backend):
        self.backend = backend

    def __getattr__(self, name):
        if name == "generate_stream":
            raise AttributeError(name)
        return getattr(self.backend, name)


def stop_string(tokenizer, mean_length: int) -> str:
    """The character contained in the share of vocabulary tokens nearest to 1 / mean_length."""
    texts = [tokenizer.decode([t]) for t in range(len(tokenizer))]
    chars = {c for t in texts for c in t if c.isprintable() and not c.isspace()}
    share = {c: sum(c in t for t in texts) / len(texts) for c in chars}
    return min(share, key=lambda c: abs(share[c] - 1 / mean_length))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--benchmark", default="gsm8k")
    parser.add_argument("--mirror", default="../shared/data/benchmarks")
    parser.add_argument("--problems", type=int, default=256)
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--mean-length", type=int, default=48)
    parser.add_argument("--checkpoint-samples", type=int, default=64, help="the chunked design's chunk, in samples")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--engine", default=None, help="vllm.LLM options as JSON (default: CPU options on CPU)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    import torch
    import vllm
    from transformers import AutoModelForCausalLM
    from vllm.platforms import current_platform

    from rlvr_eval.data.benchmarks import load_benchmark
    from rlvr_eval.models.tiny_spec import TinyModelSpec
    from rlvr_eval.models.tiny_text import build_tiny_model
    from rlvr_eval.sampling.backends import SamplingParams, load_backend
    from rlvr_eval.sampling.backends.base import token_budgets
    from rlvr_eval.sampling.prompts import render_problem_prompts
    from rlvr_eval.sampling.shards import ShardSpec, sample_shard

    scratch = Path(tempfile.mkdtemp(prefix="skew-"))
    problems, _ = load_benchmark(args.benchmark, args.mirror, limit=args.problems)
    model_dir = scratch / "model"
    build_tiny_model(model_dir, TinyModelSpec(seed=0, hidden_size=128, heads=2), problems, "plain")
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    with torch.no_grad():
        model.get_output_embeddings().weight.zero_()  # uniform next tokens (tied: the input embeddings too)
    model.save_pretrained(model_dir)
    engine = json.loads(args.engine) if args.engine else (
        {"gpu_memory_utilization": 0.1, "enforce_eager": True, "dtype": "float32", "enable_chunked_prefill": False}
        if current_platform.is_cpu() else {})
    backend = load_backend("vllm", str(model_dir), **engine)
    stop = stop_string(backend.tokenizer, args.mean_length)
    params = SamplingParams(1.0, 1.0, args.max_new_tokens, (stop,))
    spec = ShardSpec("bench", args.benchmark, 0, args.n, args.n, 0)
    prompts = render_problem_prompts("plain", problems, backend.tokenizer)
    budgets = token_budgets(backend.prompt_lengths(prompts), args.max_new_tokens, backend.context_limit)
    seeds = [spec.problem_seed(p) for p in problems["problem_id"]]

    def project(i: int) -> int:
        df = sample_shard(problems, backend, spec, "plain", params, scratch / f"stream-{i}.parquet", progress=False)
        return int(df["num_tokens"].sum())

    def chunked(i: int) -> int:
        df = sample_shard(problems, Chunked(backend), spec, "plain", params, scratch / f"chunked-{i}.parquet",
                          checkpoint_samples=args.checkpoint_samples, progress=False)
        return int(df["num_tokens"].sum())

    def bare(i: int) -> int:
        return sum(c.num_tokens for comps in backend.generate(prompts, args.n, seeds, params, budgets) for c in comps)

    ways = {"project": project, "chunked": chunked, "bare": bare}
    for way in ways.values():
        way(-1)  # warm-up
    runs = {name: [] for name in ways}
    load_before = os.getloadavg()
    names = list(ways)
    for i in range(args.repeats):
        for name in names[i % 3:] + names[:i % 3]:  # each way first, second and third in turn: no place favours one
            way = ways[name]
            start = time.monotonic()
            tokens = way(i)
            runs[name].append((tokens, time.monotonic() - start))
    completions = backend.generate(prompts, args.n, seeds, params, budgets)
    lengths = [c.num_tokens for comps in completions for c in comps]
    own = []
    for i in range(args.repeats):
        start = time.monotonic()
        sample_shard(problems, Instant(backend, completions), spec, "plain", params, scratch / f"own-{i}.parquet",
                     progress=False)
        own.append(time.monotonic() - start)
    report = {"problems": args.problems, "n": args.n, "max_new_tokens": args.max_new_tokens, "stop": stop,
              "checkpoint_samples": args.checkpoint_samples, "engine": engine, "vllm": vllm.__version__,
              "device": current_platform.device_type, "host": platform.node(), "load_before": load_before,
              "lengths": {"mean": statistics.mean(lengths), "median": statistics.median(lengths),
                          "at_budget": sum(n >= args.max_new_tokens for n in lengths), "samples": len(lengths)}}
    print(f"{len(lengths)} samples: mean {statistics.mean(lengths):.0f} tokens, median {statistics.median(lengths):.0f}, "
          f"{report['lengths']['at_budget']} at the {args.max_new_tokens}-token budget (stop string {stop!r})")
    for name, label in (("project", "project (sample_shard, streaming)"), ("chunked", "chunked design"),
                        ("bare", "bare LLM.generate")):
        tokens = runs[name][0][0]
        median = statistics.median(s for _, s in runs[name])
        report[name] = {"tokens": [t for t, _ in runs[name]], "seconds": [s for _, s in runs[name]],
                        "tokens_per_s": tokens / median}
        print(f"{label}: {tokens} tokens, median of {args.repeats} runs {median:.2f} s = {tokens / median:.0f} tokens/s")
    for name in ("project", "chunked"):
        report[f"{name}_over_bare"] = report[name]["tokens_per_s"] / report["bare"]["tokens_per_s"]
        print(f"{name} / bare: {report[f'{name}_over_bare']:.3f}")
    bare_s = statistics.median(s for _, s in runs["bare"])
    report["project_own_work"] = {"seconds": own, "share_of_bare": statistics.median(own) / bare_s}
    print(f"the project's own work per shard (sample_shard over finished completions): median {statistics.median(own):.3f} s, "
          f"{100 * report['project_own_work']['share_of_bare']:.1f} % of the bare run")
    report["load_after"] = os.getloadavg()
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    backend.close()
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":  # vLLM starts its engine in a spawned process, which imports this module again
    main()
