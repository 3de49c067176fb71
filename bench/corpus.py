r"""A realistic verification corpus, built from real labelled solutions and the benchmark files (issue #15).

    .venv/bin/python bench/corpus.py [--samples-per-problem 128] [--seed 0] [--out DIR]

Writes, under the cache directory (default `.cache/bench/`, not committed; `$RLVR_BENCH_CACHE` overrides):
`corpus-<seed>-<n>.parquet` (one row per response: benchmark, problem_id, sample_index, text, reference, kind)
and `problems-<benchmark>.parquet` (the benchmark tables, as the workflow's data stage writes them).
The same seed and size give the same file, byte for byte in content.

The mix (as in the issue): GSM8K 1,319 problems x n responses, each one of the four real GPT-3 solutions of
`../shared/data/samples/gsm8k_gpt3_solutions.jsonl` in one of three answer styles (`A: 18`,
`The answer is 18.`, `\boxed{18}`); MATH500 500 problems x n/2 responses, the reference solution of the problem
itself (60 %) or of another problem (40 %: a wrong answer); 5 % long degenerate outputs of 50-100 KB (a solution
repeated, some ending with hundreds of `\boxed{3}`, some cut off); 2 % with no answer; 1 in 2,000
pathological answers (`5^{5^{5^{5^{5}}}}`, `(10^{10})!`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
MIRROR = REPO.parent / "shared" / "data"
GPT3_MODELS = ("6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification")
PATHOLOGICAL = ("5^{5^{5^{5^{5}}}}", "(10^{10})!", "10^{10^{10^{10}}}", "(10^{100})!", "9^{9^{9^{9}}}")
SHARE_DEGENERATE, SHARE_NO_ANSWER, SHARE_PATHOLOGICAL = 0.05, 0.02, 0.0005


def cache_dir() -> Path:
    return Path(os.environ.get("RLVR_BENCH_CACHE", REPO / ".cache" / "bench"))


def _styles(solution: str) -> list[str]:
    """A GPT-3 solution ending in `A: <number>` in three answer styles."""
    body, _, answer = solution.rpartition("A:")
    answer = answer.strip()
    body = body.rstrip()
    return [solution, f"{body}\nThe answer is {answer}.", f"{body}\nThe final answer is $\\boxed{{{answer}}}$."]


def _degenerate(text: str, rng: np.random.Generator) -> str:
    """A real solution looped to 50-100 KB: cut off mid-way, or ending in hundreds of `\\boxed{3}`."""
    size = int(rng.integers(50_000, 100_000))
    unit = text.rstrip() + "\nWait, let me re-check this.\n"
    looped = (unit * (size // max(1, len(unit)) + 1))[:size]
    if rng.random() < 0.3:
        return looped[: size // 2] + " So the answer is \\boxed{3}." * (size // 2 // 28)
    return looped


def _no_answer(text: str) -> str:
    """The opening of a real solution with every digit and formula removed: nothing to extract."""
    words = re.sub(r"[\d$\\{}=^]", "", text.split("\n")[0])[:200]
    return f"{words.strip()} I am not able to finish this problem."


def build(samples_per_problem: int, seed: int) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    sys.path.insert(0, str(REPO / "src"))
    from rlvr_eval.data.benchmarks import load_benchmark

    rng = np.random.default_rng(seed)
    gsm8k, _ = load_benchmark("gsm8k", MIRROR / "benchmarks")
    math500, _ = load_benchmark("math500", MIRROR / "benchmarks")
    with open(MIRROR / "samples" / "gsm8k_gpt3_solutions.jsonl") as f:
        gpt3 = [json.loads(line) for line in f]
    if [r["question"] for r in gpt3] != gsm8k["question"].tolist():
        raise ValueError("gsm8k_gpt3_solutions.jsonl is not in the order of benchmarks/gsm8k/test.jsonl")

    rows: list[tuple[str, str, int, str, str, str]] = []

    def add(benchmark: str, pid: str, reference: str, pool: list[str], n: int, wrong_pool=None) -> None:
        kinds = rng.random(n)
        for i in range(n):
            if wrong_pool is not None and rng.random() < 0.4:
                text, kind = wrong_pool[int(rng.integers(len(wrong_pool)))], "other problem"
            else:
                text, kind = pool[int(rng.integers(len(pool)))], "own solution"
            if kinds[i] < SHARE_PATHOLOGICAL:
                text = f"{text.rstrip()}\nSo the answer is $\\boxed{{{PATHOLOGICAL[int(rng.integers(len(PATHOLOGICAL)))]}}}$."
                kind = "pathological"
            elif kinds[i] < SHARE_PATHOLOGICAL + SHARE_DEGENERATE:
                text, kind = _degenerate(text, rng), "degenerate"
            elif kinds[i] < SHARE_PATHOLOGICAL + SHARE_DEGENERATE + SHARE_NO_ANSWER:
                text, kind = _no_answer(text), "no answer"
            rows.append((benchmark, pid, i, text, reference, kind))

    for row, sol in zip(gsm8k.itertuples(), gpt3):
        pool = [t for m in GPT3_MODELS for t in _styles(sol[m]["solution"])]
        add("gsm8k", row.problem_id, row.reference, pool, samples_per_problem)
    solutions = math500["solution"].tolist()
    for row in math500.itertuples():
        others = [solutions[j] for j in rng.choice(len(solutions), size=8, replace=False)]
        add("math500", row.problem_id, row.reference, [row.solution], samples_per_problem // 2, wrong_pool=others)
    corpus = pd.DataFrame(rows, columns=["benchmark", "problem_id", "sample_index", "text", "reference", "kind"])
    return corpus, {"gsm8k": gsm8k, "math500": math500}


def corpus_path(samples_per_problem: int = 128, seed: int = 0, out: Path | None = None) -> Path:
    """The corpus file, built on first use."""
    out = Path(out or cache_dir())
    path = out / f"corpus-{seed}-{samples_per_problem}.parquet"
    if not path.is_file():
        corpus, problems = build(samples_per_problem, seed)
        out.mkdir(parents=True, exist_ok=True)
        for name, table in problems.items():
            table.to_parquet(out / f"problems-{name}.parquet", index=False)
        tmp = path.with_suffix(".tmp")
        # small row groups: readers stream the file batch by batch
        corpus.to_parquet(tmp, index=False, row_group_size=5_000, compression="zstd")
        tmp.replace(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples-per-problem", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    path = corpus_path(args.samples_per_problem, args.seed, args.out)
    corpus = pd.read_parquet(path, columns=["benchmark", "kind", "text"])
    print(f"{path}: {len(corpus):,} responses, {path.stat().st_size / 1e6:.0f} MB on disk")
    print(corpus.groupby(["benchmark", "kind"]).size().to_string())
    print(f"distinct texts: {corpus['text'].nunique():,}")


if __name__ == "__main__":
    main()
