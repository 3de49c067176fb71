"""Aggregation over a growing grid: the metrics, tables, coverage, histograms and the cross-grid pass@k figure for
10, 20 and 40 models x 12 benchmarks, with the functions the rules call (issue #15: "no quadratic step").

    .venv/bin/python bench/aggregation_scaling.py [--models 10 20 40] [--benchmarks 12]

The benchmarks have the paper's sizes (GSM8K 1,319, MATH500 500, Minerva 272, OlympiadBench 675 problems at
n = 128; AIME24 30, AMC23 40 at n = 1,024), repeated up to --benchmarks; pass@k for every k <= n. Models come in
(base, RL) pairs. Each stage's CPU time (steadier than wall time on a shared machine) is printed per grid size,
with the ratio of the largest grid to the one half its size: about 2 where the stage is linear in the number of
models, about 4 where it is quadratic.
"""

from __future__ import annotations

import argparse
import time

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from rlvr_eval.analysis.accuracy_hist import accuracy_histogram  # noqa: E402
from rlvr_eval.analysis.coverage import coverage_report  # noqa: E402
from rlvr_eval.metrics.passk import per_problem_counts, per_problem_pass_at_k  # noqa: E402
from rlvr_eval.plots.passk_curves import plot_passk_curves  # noqa: E402
from rlvr_eval.metrics.tables import passk_table, sample_counts, to_markdown  # noqa: E402

PAPER_MATH = [("gsm8k", 1319, 128), ("math500", 500, 128), ("minerva_math", 272, 128), ("olympiadbench", 675, 128),
              ("aime24", 30, 1024), ("amc23", 40, 1024)]


def benchmarks(count: int) -> list[tuple[str, int, int]]:
    return [(f"{name}-{i // len(PAPER_MATH)}" if i >= len(PAPER_MATH) else name, problems, n)
            for i, (name, problems, n) in ((i, PAPER_MATH[i % len(PAPER_MATH)]) for i in range(count))]


def verdicts(rng: np.random.Generator, problems: int, n: int) -> pd.DataFrame:
    difficulty = rng.beta(0.5, 0.5, size=problems)
    correct = rng.random((problems, n)) < difficulty[:, None]
    return pd.DataFrame({"problem_id": np.repeat(np.arange(problems).astype(str), n),
                         "sample_index": np.tile(np.arange(n), problems), "correct": correct.ravel()})


def run_grid(models: int, grid: list[tuple[str, int, int]], figure: str) -> dict[str, float]:
    rng = np.random.default_rng(0)
    names = [f"m{i:02d}-{'base' if i % 2 == 0 else 'rl'}" for i in range(models)]
    pairs = [{"name": f"pair{i // 2}", "base": names[i], "rl": names[i + 1]} for i in range(0, models, 2)]
    seconds = dict.fromkeys(["metrics (per model x benchmark)", "pass@k tables (per benchmark)",
                             "coverage (per pair x benchmark)", "accuracy histograms (per pair x benchmark)",
                             "pass@k figure (whole grid)"], 0.0)
    tables = {}
    for benchmark, problems, n in grid:
        ks = list(range(1, n + 1))
        per_problem = {}
        for pair in pairs:  # one pair's verdicts at a time: the coverage rule reads verdict rows (k < n)
            pair_verdicts = {m: verdicts(rng, problems, n) for m in (pair["base"], pair["rl"])}
            start = time.process_time()
            for model, v in pair_verdicts.items():
                per_problem[model] = per_problem_pass_at_k(per_problem_counts(v), ks)
            seconds["metrics (per model x benchmark)"] += time.process_time() - start

            start = time.process_time()
            coverage_report(pair_verdicts[pair["base"]], pair_verdicts[pair["rl"]], ks=[1, n], pair=pair["name"],
                            benchmark=benchmark, base_model=pair["base"], rl_model=pair["rl"])
            seconds["coverage (per pair x benchmark)"] += time.process_time() - start

            start = time.process_time()
            accuracy_histogram({m: per_problem[m][["problem_id", "n", "c"]] for m in pair_verdicts},
                               labels={"pair": pair["name"], "benchmark": benchmark})
            seconds["accuracy histograms (per pair x benchmark)"] += time.process_time() - start

        start = time.process_time()
        tables[benchmark] = passk_table(per_problem)
        to_markdown(tables[benchmark], title=benchmark, counts=sample_counts(per_problem))
        seconds["pass@k tables (per benchmark)"] += time.process_time() - start

    start = time.process_time()
    plot_passk_curves(tables, pairs, figure)
    seconds["pass@k figure (whole grid)"] += time.process_time() - start
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, nargs="+", default=[10, 20, 40])
    parser.add_argument("--benchmarks", type=int, default=12)
    parser.add_argument("--figure", default="/tmp/aggregation_scaling.png")
    args = parser.parse_args()
    grid = benchmarks(args.benchmarks)
    sizes = sorted(args.models)
    results = {m: run_grid(m, grid, args.figure) for m in sizes}
    verdict_count = sum(p * n for _, p, n in grid)
    print(f"{args.benchmarks} benchmarks, {verdict_count:,} verdicts per model, pass@k for every k <= n\n")
    header = "stage".ljust(44) + "".join(f"{m:>8} models" for m in sizes)
    big, half = sizes[-1], next((m for m in sizes if 2 * m == sizes[-1]), None)
    print(header + (f"   ratio {big}/{half}" if half else ""))
    for stage in results[sizes[0]]:
        row = stage.ljust(44) + "".join(f"{results[m][stage]:>13.2f} s" for m in sizes)
        if half:
            row += f"   {results[big][stage] / results[half][stage]:>9.2f}"
        print(row)
    totals = {m: sum(results[m].values()) for m in sizes}
    print("total".ljust(44) + "".join(f"{totals[m]:>13.2f} s" for m in sizes)
          + (f"   {totals[big] / totals[half]:>9.2f}" if half else ""))
    print("\nratio ~2: linear in the number of models; ~4: quadratic")


if __name__ == "__main__":
    main()
