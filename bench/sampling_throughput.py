"""Sampling throughput (generated tokens per second) of a backend on one model and benchmark.

    .venv/bin/python bench/sampling_throughput.py --model-dir results/models/tiny-base --backend transformers
    python bench/sampling_throughput.py --model-dir /models/Qwen2.5-7B --backend vllm --compare-bare-vllm

With --compare-bare-vllm (GPU only) the same prompts also go through one bare `vllm.LLM.generate` call,
so the backend's overhead shows as a ratio.
"""

import argparse
import time

from rlvr_eval.backends import SamplingParams, load_backend
from rlvr_eval.benchmarks import load_benchmark
from rlvr_eval.prompts import render_prompt, stop_strings

parser = argparse.ArgumentParser()
parser.add_argument("--model-dir", required=True)
parser.add_argument("--backend", default="transformers")
parser.add_argument("--benchmark", default="math500")
parser.add_argument("--mirror", default="../shared/data/benchmarks")
parser.add_argument("--problems", type=int, default=16)
parser.add_argument("--n", type=int, default=8)
parser.add_argument("--max-new-tokens", type=int, default=256)
parser.add_argument("--template", default="qwen-boxed")
parser.add_argument("--compare-bare-vllm", action="store_true")
args = parser.parse_args()

problems, _ = load_benchmark(args.benchmark, args.mirror, limit=args.problems)
prompts = [render_prompt(args.template, q) for q in problems["question"]]
params = SamplingParams(0.6, 0.95, args.max_new_tokens, tuple(stop_strings(args.template)))
backend = load_backend(args.backend, args.model_dir)
start = time.monotonic()
results = backend.generate(prompts, args.n, list(range(len(prompts))), params)
elapsed = time.monotonic() - start
tokens = sum(c.num_tokens for r in results for c in r)
print(f"{args.backend}: {tokens} tokens in {elapsed:.2f} s = {tokens / elapsed:.1f} tokens/s ({backend.info()})")

if args.compare_bare_vllm:
    import vllm

    llm = backend.llm  # reuse the engine: the comparison is the per-call overhead, not engine start-up
    bare = vllm.SamplingParams(n=args.n, temperature=0.6, top_p=0.95, max_tokens=args.max_new_tokens,
                               stop=list(params.stop), seed=0)
    start = time.monotonic()
    outs = llm.generate(prompts, bare)
    bare_elapsed = time.monotonic() - start
    bare_tokens = sum(len(o.token_ids) for out in outs for o in out.outputs)
    print(f"bare vllm: {bare_tokens} tokens in {bare_elapsed:.2f} s = {bare_tokens / bare_elapsed:.1f} tokens/s; "
          f"backend/bare throughput ratio {(tokens / elapsed) / (bare_tokens / bare_elapsed):.3f}")
