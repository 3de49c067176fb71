"""Unbiased pass@k (Chen et al., 2021) per problem and per benchmark.

pass@k = 1 - C(n-c, k) / C(n, k), computed as 1 - prod_{i=n-c+1}^{n} (1 - k/i), which never forms the
huge binomials and stays accurate for n in the thousands.

Metrics file schema (`results/metrics/{model}/{benchmark}/{grader}/per_problem.parquet`), one row per problem:
problem_id (str), n (int, samples graded), c (int, correct samples), and one float column `pass@k`
for every k in the file's `ks` metadata.
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
    return np.array([pass_at_k(int(ni), int(ci), k) for ni, ci in zip(n, c)])


def default_ks(n: int, every_k: bool = False) -> list[int]:
    """1, 2, 4, …, up to n, plus n itself; or every k in 1..n."""
    if every_k:
        return list(range(1, n + 1))
    ks = [1 << i for i in range(n.bit_length()) if (1 << i) <= n]
    return ks if ks[-1] == n else ks + [n]


def per_problem_counts(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Verdict rows -> one row per problem with n (samples) and c (correct samples)."""
    g = verdicts.groupby("problem_id", sort=False)["correct"]
    return pd.DataFrame({"n": g.size(), "c": g.sum()}).reset_index().astype({"n": int, "c": int})


def per_problem_pass_at_k(counts: pd.DataFrame, ks: list[int]) -> pd.DataFrame:
    out = counts.copy()
    for k in ks:
        out[f"pass@{k}"] = pass_at_k_array(out["n"].to_numpy(), out["c"].to_numpy(), k)
    return out


def mean_pass_at_k(per_problem: pd.DataFrame, ks: list[int]) -> pd.Series:
    return pd.Series({k: float(per_problem[f"pass@{k}"].mean()) for k in ks}, name="pass@k")
