"""Unbiased pass@k (Chen et al., 2021) per problem and per benchmark.

pass@k = 1 - C(n-c, k) / C(n, k), computed as 1 - prod_{i=n-c+1}^{n} (1 - k/i), which never forms the
huge binomials and stays accurate for n in the thousands.

Metrics file schema (`results/metrics/{model}/{benchmark}/{grader}/per_problem.parquet`), one row per problem:
problem_id (str), n (int, samples graded), c (int, correct samples), capped (int, samples whose token budget
the context cut below max_new_tokens), prompt_too_long (int, samples never generated: they count as wrong),
and one float column `pass@k` for every k in the file's `ks` metadata. Every problem of the benchmark has
exactly n samples (`check_complete`), or no file is written.
"""

from __future__ import annotations

from fractions import Fraction
from math import comb

import numpy as np
import pandas as pd


def pass_at_k(n: int, c: int, k: int) -> float:
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if not 1 <= k <= n:
        raise ValueError(f"need 1 <= k <= n, got k={k}, n={n}")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def pass_at_k_exact(n: int, c: int, k: int) -> Fraction:
    """Exact rational value, for tests."""
    return 1 - Fraction(comb(n - c, k), comb(n, k))


def pass_at_k_array(n: np.ndarray, c: np.ndarray, k: int) -> np.ndarray:
    return pass_at_k_matrix(n, c, [k])[:, 0]


def pass_at_k_matrix(n: np.ndarray, c: np.ndarray, ks: list[int]) -> np.ndarray:
    """pass@k of every problem (rows) for every k in `ks` (columns), vectorised.

    C(n-c, k) / C(n, k) = prod_{j<k} (n-c-j) / (n-j): one cumulative product per problem gives it for every
    k at once (problems grouped by n), instead of one product per (problem, k).
    """
    n, c = np.asarray(n, dtype=np.int64), np.asarray(c, dtype=np.int64)
    ks_arr = np.asarray(ks, dtype=np.int64)
    if len(n) and ((c < 0) | (c > n)).any():
        i = int(np.argmax((c < 0) | (c > n)))
        raise ValueError(f"need 0 <= c <= n, got n={n[i]}, c={c[i]}")
    out = np.empty((len(n), len(ks_arr)), dtype=np.float64)
    if not len(ks_arr):
        return out
    if (ks_arr < 1).any():
        raise ValueError(f"need k >= 1, got k={int(ks_arr.min())}")
    for size in np.unique(n):
        if ks_arr.max() > size:
            raise ValueError(f"need 1 <= k <= n, got k={int(ks_arr.max())}, n={int(size)}")
        rows = np.flatnonzero(n == size)
        j = np.arange(ks_arr.max(), dtype=np.float64)
        factors = np.clip((size - c[rows, None] - j) / (size - j), 0.0, None)
        out[rows] = 1.0 - np.cumprod(factors, axis=1)[:, ks_arr - 1]
    return out


def default_ks(n: int, every_k: bool = False) -> list[int]:
    """1, 2, 4, …, up to n, plus n itself; or every k in 1..n."""
    if every_k:
        return list(range(1, n + 1))
    ks = [1 << i for i in range(n.bit_length()) if (1 << i) <= n]
    return ks if ks[-1] == n else ks + [n]


class IncompleteVerdictsError(ValueError):
    """Verdicts that do not cover every problem x sample they should: a mean over them would mislead."""


def check_complete(verdicts: pd.DataFrame, problem_ids, n: int, what: str = "verdicts") -> None:
    """Every problem of the benchmark has exactly the sample indices 0 … n-1, once, and nothing else is there."""
    expected = pd.Index(pd.Series(list(problem_ids), dtype=str))
    df = verdicts[["problem_id", "sample_index"]].astype({"problem_id": str})
    problems: list[str] = []
    duplicated = df.duplicated()
    if duplicated.any():
        first = df[duplicated].iloc[0]
        problems.append(f"{int(duplicated.sum())} duplicate samples, e.g. problem {first.problem_id} sample "
                        f"{first.sample_index}")
    unknown = pd.Index(df["problem_id"].unique()).difference(expected)
    if len(unknown):
        problems.append(f"{len(unknown)} problems not in the benchmark table, e.g. {list(unknown[:3])}")
    g = df.groupby("problem_id")["sample_index"].agg(["nunique", "min", "max"]).reindex(expected)
    absent = g.index[g["nunique"].isna()]
    if len(absent):
        problems.append(f"{len(absent)} of {len(expected)} problems have no samples, e.g. {list(absent[:5])}")
    short = g.dropna()
    short = short[(short["nunique"] != n) | (short["min"] != 0) | (short["max"] != n - 1)]
    if len(short):
        pid = short.index[0]
        have = set(df.loc[df["problem_id"] == pid, "sample_index"].astype(int))
        missing = sorted(set(range(n)) - have)
        problems.append(f"{len(short)} problems do not have exactly the samples 0…{n - 1}, e.g. problem {pid}: "
                        f"{len(have)} samples, missing indices {missing[:8]}{' …' if len(missing) > 8 else ''}")
    if problems:
        raise IncompleteVerdictsError(f"{what}: " + "; ".join(problems) + f" (expected {len(expected)} problems x "
                                      f"n={n}). Rerun the jobs that make them (`snakemake` rebuilds missing shards).")


def per_problem_counts(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Verdict rows -> one row per problem with n (samples), c (correct samples) and, where the verdicts say,
    the samples whose token budget was capped and those never generated (prompt_too_long)."""
    df = verdicts.assign(problem_id=verdicts["problem_id"].astype(str))
    g = df.groupby("problem_id", sort=False)
    out = pd.DataFrame({"n": g.size(), "c": g["correct"].sum()})
    if "capped" in df:
        out["capped"] = g["capped"].sum()
    if "status" in df:
        out["prompt_too_long"] = (df["status"] == "prompt_too_long").groupby(df["problem_id"], sort=False).sum()
    return out.reset_index().astype({k: int for k in out.columns})


def per_problem_pass_at_k(counts: pd.DataFrame, ks: list[int]) -> pd.DataFrame:
    values = pass_at_k_matrix(counts["n"].to_numpy(), counts["c"].to_numpy(), ks)
    columns = pd.DataFrame(values, columns=[f"pass@{k}" for k in ks], index=counts.index)
    return pd.concat([counts, columns], axis=1)


def mean_pass_at_k(per_problem: pd.DataFrame, ks: list[int]) -> pd.Series:
    return pd.Series({k: float(per_problem[f"pass@{k}"].mean()) for k in ks}, name="pass@k")
