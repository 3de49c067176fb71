"""pass@k for every k <= 1,024 over 10,000 problems x n = 1,024 (10.24 M verdicts): the vectorised per-problem
computation (rlvr_eval.metrics.passk.per_problem_pass_at_k) against the baseline of one product per (problem, k),
measured in the same run, and their largest difference.

    .venv/bin/python bench/passk_aggregation.py [--problems 10000] [--n 1024] [--baseline-problems 500]

The baseline is timed on a subset (--baseline-problems) and scaled linearly: it is O(problems x ks) Python calls.
"""

import argparse
import time

import numpy as np
import pandas as pd

from rlvr_eval.metrics.passk import pass_at_k, per_problem_counts, per_problem_pass_at_k

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--problems", type=int, default=10_000)
parser.add_argument("--n", type=int, default=1024)
parser.add_argument("--baseline-problems", type=int, default=500)
args = parser.parse_args()

rng = np.random.default_rng(0)
difficulty = rng.beta(0.5, 0.5, size=args.problems)
correct = rng.random((args.problems, args.n)) < difficulty[:, None]
verdicts = pd.DataFrame({"problem_id": np.repeat(np.arange(args.problems).astype(str), args.n),
                         "sample_index": np.tile(np.arange(args.n), args.problems), "correct": correct.ravel()})
ks = list(range(1, args.n + 1))

start = time.perf_counter()
counts = per_problem_counts(verdicts)
counted = time.perf_counter() - start
start = time.perf_counter()
table = per_problem_pass_at_k(counts, ks)
vectorised = time.perf_counter() - start

subset = counts.head(args.baseline_problems)
start = time.perf_counter()
baseline = np.array([[pass_at_k(n, c, k) for k in ks] for n, c in zip(subset["n"], subset["c"])])
baseline_s = (time.perf_counter() - start) * args.problems / len(subset)
difference = np.abs(table[[f"pass@{k}" for k in ks]].to_numpy()[: len(subset)] - baseline).max()

print(f"{len(verdicts):,} verdicts, {args.problems:,} problems, every k <= {args.n}")
print(f"counting verdicts per problem: {counted:.2f} s")
print(f"pass@k, vectorised: {vectorised:.2f} s; one product per (problem, k): {baseline_s:.1f} s "
      f"(extrapolated from {len(subset)} problems); ratio {baseline_s / vectorised:.0f}x; "
      f"largest difference {difference:.1e}")
