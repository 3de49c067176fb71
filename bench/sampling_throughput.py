"""Sampling throughput (generated tokens per second) on the same prompts, seeds and model, three ways:

- the transformers backend (`TransformersBackend.generate`);
- the vLLM backend through the workflow's code: `sample_shard` (prompt rendering, the context check, one
  `generate` call per chunk, checkpoint and shard files written), as the rule `sample` runs it;
- bare vLLM: one `LLM.generate` call on the same engine, with the same per-prompt seeds and parameters.

The target is the workflow's overhead over bare vLLM: under 5 %. vLLM runs are repeated, alternating workflow and
bare, and compared by their fastest runs (the least disturbed by other work on the machine). Needs vllm: vLLM's CPU
build (`make install-vllm`) or a GPU build.

    .venv-vllm/bin/python bench/sampling_throughput.py                  # a tiny model built here, CPU options
    python bench/sampling_throughput.py --model-dir /models/Qwen2.5-Math-1.5B --engine '{"gpu_memory_utilization": 0.9}'

Without --model-dir it builds the tests' tiny Qwen2 model untrained (random text, so every sample runs to
--max-new-tokens).
"""

import argparse
import json
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path


def tokens_of(results) -> int:
    return sum(c.num_tokens for r in results for c in r)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model-dir", help="default: a tiny untrained Qwen2 model built here")
    parser.add_argument("--benchmark", default="math500")
    parser.add_argument("--mirror", default="../shared/data/benchmarks")
    parser.add_argument("--problems", type=int, default=16)
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--template", default="qwen-boxed")
    parser.add_argument("--repeats", type=int, default=10, help="vLLM runs of each kind (workflow, bare)")
    parser.add_argument("--engine", default=None, help="vllm.LLM options as JSON (default: CPU options on CPU)")
    parser.add_argument("--skip-transformers", action="store_true")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    import vllm
    from vllm.platforms import current_platform

    from rlvr_eval.sampling.backends import SamplingParams, load_backend
    from rlvr_eval.sampling.backends.vllm_backend import stop_token_ids
    from rlvr_eval.data.benchmarks import load_benchmark
    from rlvr_eval.sampling.prompts import render_prompt, stop_strings
    from rlvr_eval.sampling.shards import ShardSpec, sample_shard

    scratch = Path(tempfile.mkdtemp(prefix="throughput-"))  # the tiny model and the shard files; removed at the end
    problems, _ = load_benchmark(args.benchmark, args.mirror, limit=args.problems)
    model_dir = args.model_dir
    if model_dir is None:
        from rlvr_eval.models.tiny_spec import TinyModelSpec
        from rlvr_eval.models.tiny_text import build_tiny_model

        model_dir = str(scratch / "tiny-model")
        build_tiny_model(model_dir, TinyModelSpec(seed=0, hidden_size=128, heads=2), problems, args.template)
    engine = json.loads(args.engine) if args.engine else (
        {"gpu_memory_utilization": 0.1, "enforce_eager": True, "dtype": "float32",
         "enable_chunked_prefill": False} if current_platform.is_cpu() else {})
    params = SamplingParams(0.6, 0.95, args.max_new_tokens, tuple(stop_strings(args.template)))
    spec = ShardSpec("bench", args.benchmark, 0, args.n, args.n, 0)
    seeds = [spec.problem_seed(p) for p in problems["problem_id"]]
    report = {"model_dir": model_dir, "problems": len(problems), "n": args.n, "max_new_tokens": args.max_new_tokens,
              "engine": engine, "host": platform.node(), "device": current_platform.device_type, "vllm": vllm.__version__}

    if not args.skip_transformers:
        hf = load_backend("transformers", model_dir)
        prompts = [render_prompt(args.template, q, hf.tokenizer) for q in problems["question"]]
        start = time.monotonic()
        tokens = tokens_of(hf.generate(prompts, args.n, seeds, params))
        elapsed = time.monotonic() - start
        report["transformers"] = {"tokens": tokens, "seconds": elapsed, "tokens_per_s": tokens / elapsed}
        print(f"transformers backend: {tokens} tokens in {elapsed:.2f} s = {tokens / elapsed:.1f} tokens/s", flush=True)
        del hf

    backend = load_backend("vllm", model_dir, **engine)
    llm = backend.llm  # the same engine for both: the comparison is the per-call overhead, not engine start-up
    prompts = [render_prompt(args.template, q, backend.tokenizer) for q in problems["question"]]
    stop_ids = stop_token_ids(backend.tokenizer, params.stop)
    bare_params = [vllm.SamplingParams(n=args.n, temperature=params.temperature, top_p=params.top_p,
                                       max_tokens=params.max_new_tokens, seed=s, stop=list(params.stop),
                                       stop_token_ids=stop_ids, skip_special_tokens=False)
                   for s in seeds]

    def workflow_run(i: int) -> tuple[int, float]:
        start = time.monotonic()
        df = sample_shard(problems, backend, spec, args.template, params, scratch / f"shard-{i}.parquet",
                          chunk_size=len(problems), progress=False)
        return int(df["num_tokens"].sum()), time.monotonic() - start

    def bare_run() -> tuple[int, float]:
        start = time.monotonic()
        outs = llm.generate(prompts, bare_params, use_tqdm=False)
        return sum(len(o.token_ids) for out in outs for o in out.outputs), time.monotonic() - start

    workflow_run(-1), bare_run()  # warm-up: first-call allocations
    runs = {"workflow": [], "bare": []}
    for i in range(args.repeats):
        runs["workflow"].append(workflow_run(i))
        runs["bare"].append(bare_run())
    for kind, label in (("workflow", "vLLM backend via sample_shard"), ("bare", "bare LLM.generate")):
        tokens = runs[kind][0][0]
        seconds = [s for _, s in runs[kind]]
        report[kind] = {"tokens": tokens, "min_seconds": min(seconds), "median_seconds": statistics.median(seconds),
                        "tokens_per_s": tokens / min(seconds), "seconds": seconds,
                        "tokens_each_run": [t for t, _ in runs[kind]]}
        print(f"{label}: {tokens} tokens, fastest of {args.repeats} runs {min(seconds):.3f} s = "
              f"{tokens / min(seconds):.1f} tokens/s (median {statistics.median(seconds):.3f} s)", flush=True)
    overhead = report["bare"]["tokens_per_s"] / report["workflow"]["tokens_per_s"] - 1
    report["workflow_overhead_over_bare"] = overhead
    print(f"workflow overhead over bare vLLM: {100 * overhead:+.2f} % (target: under 5 %)")
    if "transformers" in report:
        print(f"vLLM backend / transformers backend throughput: "
              f"{report['workflow']['tokens_per_s'] / report['transformers']['tokens_per_s']:.2f}x")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":  # vLLM starts its engine in a spawned process, which imports this module again
    main()
