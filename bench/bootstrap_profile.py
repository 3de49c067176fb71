"""Profile of the bootstrap (rlvr_eval.analysis.bootstrap.bootstrap_pair) at n = 1,024 samples per problem, every
k <= 1,024 and 10,000 resamples (issue #15), with peak memory, and the baseline of one resample at a time
(a Python loop over replicates, each a fancy-indexed mean), measured in the same run on a subset and scaled.

    .venv/bin/python bench/bootstrap_profile.py [--problems 500] [--n 1024] [--resamples 10000]
        [--baseline-resamples 200] [--top 12]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
import tracemalloc

import numpy as np
import pandas as pd

from rlvr_eval.analysis.bootstrap import bootstrap_pair, per_problem_values

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--problems", type=int, default=500)
parser.add_argument("--n", type=int, default=1024)
parser.add_argument("--resamples", type=int, default=10_000)
parser.add_argument("--baseline-resamples", type=int, default=200)
parser.add_argument("--top", type=int, default=12)
args = parser.parse_args()

rng = np.random.default_rng(0)
ids = [f"p{i}" for i in range(args.problems)]
base = pd.DataFrame({"problem_id": ids, "n": args.n, "c": rng.binomial(args.n, rng.beta(0.5, 0.5, args.problems))})
rl = pd.DataFrame({"problem_id": ids, "n": args.n,
                   "c": rng.binomial(args.n, np.clip(rng.beta(0.5, 0.5, args.problems) * 1.2, 0, 1))})
ks = list(range(1, args.n + 1))

profiler = cProfile.Profile()
tracemalloc.start()
started = time.perf_counter()
profiler.enable()
report = bootstrap_pair(base, rl, ks=ks, num_resamples=args.resamples, seed=0)
profiler.disable()
elapsed = time.perf_counter() - started
_, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
print(f"bootstrap_pair: {args.problems} problems x n = {args.n}, {len(ks)} ks, {args.resamples:,} resamples, "
      f"2 models: {elapsed:.2f} s, peak traced memory {peak / 2**20:.0f} MB; crossover "
      f"{report['crossover']['crossover_k']} ({report['crossover']['ci_low']}-{report['crossover']['ci_high']})")
pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.top)

# Baseline: one replicate at a time (draw indices, average the rows), as a straightforward implementation would.
values = np.stack([per_problem_values(df, ks).loc[ids].to_numpy() for df in (base, rl)])
started = time.perf_counter()
loop_rng = np.random.default_rng(0)
for _ in range(args.baseline_resamples):
    drawn = loop_rng.integers(0, args.problems, args.problems)
    values[:, drawn, :].mean(axis=1)
baseline = (time.perf_counter() - started) * args.resamples / args.baseline_resamples
print(f"baseline (one replicate at a time, {args.baseline_resamples} timed, scaled to {args.resamples:,}): "
      f"{baseline:.2f} s; bootstrap_pair is {baseline / elapsed:.1f}x faster")
