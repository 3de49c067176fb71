"""Bootstrap over problems: how much of a pass@k curve (and of the base − RL gap) is sampling noise.

The benchmark's problems are the sampling unit: a replicate draws N problems with replacement and
recomputes every model's mean pass@k from the per-problem pass@k values (rlvr_eval.metrics.passk). All
models share the same replicates, so differences are paired: the base and RL values of a replicate
come from the same problems (aligned by problem id). Intervals are percentile intervals.

The crossover k of a (base, RL) pair is the smallest evaluated k with base pass@k ≥ RL pass@k
(None if there is none). Its bootstrap distribution is the crossover of every replicate; "no
crossover" counts as beyond the largest k, so an interval end there is reported as None.

A replicate is a vector of multiplicities (how often each problem was drawn, multinomial(N, 1/N)),
so a replicate's mean is one matrix product: B × N multiplicities @ N × K values, never B × N × K.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rlvr_eval.metrics.passk import per_problem_pass_at_k

PASSK_CI_COLUMNS = ["k", "model", "pass@k", "ci_low", "ci_high"]
DIFFERENCE_COLUMNS = ["k", "diff", "ci_low", "ci_high"]


@dataclass(frozen=True)
class BootstrapResult:
    ks: list[int]
    models: list[str]
    problem_ids: list[str]
    point: np.ndarray  # (models, ks): mean pass@k over all problems
    replicates: np.ndarray  # (B, models, ks): mean pass@k of each bootstrap replicate

    def model_index(self, model: str) -> int:
        if model not in self.models:
            raise KeyError(f"model {model!r} not in the bootstrap (models: {self.models})")
        return self.models.index(model)


def passk_columns(per_problem: pd.DataFrame) -> list[int]:
    return sorted(int(col.split("@", 1)[1]) for col in per_problem.columns if col.startswith("pass@"))


def per_problem_values(per_problem: pd.DataFrame, ks: list[int], model: str = "model") -> pd.DataFrame:
    """problem_id-indexed frame of pass@k columns; missing pass@k columns are computed from (n, c)."""
    missing = [k for k in ks if f"pass@{k}" not in per_problem.columns]
    if missing:
        if not {"n", "c"} <= set(per_problem.columns):
            raise ValueError(f"{model}: no pass@k column for k={missing} and no (n, c) columns to compute it from")
        too_large = [k for k in missing if k > int(per_problem["n"].min())]
        if too_large:
            raise ValueError(f"{model}: pass@k for k={too_large} needs at least that many samples per problem; "
                             f"the fewest any problem has is n={int(per_problem['n'].min())}")
        per_problem = per_problem_pass_at_k(per_problem, missing)
    values = per_problem.assign(problem_id=per_problem["problem_id"].astype(str)).set_index("problem_id")
    if values.index.duplicated().any():
        raise ValueError(f"{model}: duplicate problem ids, e.g. {values.index[values.index.duplicated()][0]!r}")
    return values[[f"pass@{k}" for k in ks]].astype(float)


def bootstrap_mean_passk(per_problem: dict[str, pd.DataFrame], ks: list[int] | None = None, num_resamples: int = 1000,
                         seed: int = 0) -> BootstrapResult:
    """Bootstrap mean pass@k of every model over the same resampled problems.

    per_problem: model -> per-problem table (problem_id and pass@k columns, or n and c). Every model
    must cover the same problems. ks: default, the ks with a pass@k column in every table.
    """
    if not per_problem:
        raise ValueError("no models given")
    if num_resamples < 1:
        raise ValueError(f"num_resamples must be >= 1, got {num_resamples}")
    if ks is None:
        ks = sorted(set.intersection(*(set(passk_columns(df)) for df in per_problem.values())))
        if not ks:
            raise ValueError("the per-problem tables share no pass@k column; pass ks explicitly")
    ks = sorted({int(k) for k in ks})
    values = {m: per_problem_values(df, ks, m) for m, df in per_problem.items()}
    models = list(values)
    problem_ids = sorted(values[models[0]].index)
    for m in models[1:]:
        if set(values[m].index) != set(problem_ids):
            only_first = set(problem_ids) - set(values[m].index)
            only_m = set(values[m].index) - set(problem_ids)
            raise ValueError(f"models {models[0]!r} and {m!r} cover different problems ({len(only_first)} only in the "
                             f"first, e.g. {sorted(only_first)[:3]}; {len(only_m)} only in the second, e.g. {sorted(only_m)[:3]})")
    if not problem_ids:
        raise ValueError("the per-problem tables hold no problems")
    stacked = np.stack([values[m].loc[problem_ids].to_numpy() for m in models])  # (M, N, K), rows aligned by id
    n_problems = len(problem_ids)
    rng = np.random.default_rng(seed)
    multiplicity = rng.multinomial(n_problems, np.full(n_problems, 1.0 / n_problems), size=num_resamples)  # (B, N)
    replicates = np.matmul(multiplicity.astype(float), stacked).transpose(1, 0, 2) / n_problems  # (B, M, K)
    return BootstrapResult(ks=ks, models=models, problem_ids=problem_ids, point=stacked.mean(axis=1), replicates=replicates)


def percentiles(samples: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    alpha = (1 - confidence) / 2
    low, high = np.quantile(samples, [alpha, 1 - alpha], axis=0)
    return low, high


def passk_intervals(result: BootstrapResult, confidence: float = 0.95) -> pd.DataFrame:
    """One row per (k, model): point pass@k and its percentile interval."""
    low, high = percentiles(result.replicates, confidence)  # (M, K) each
    rows = [(k, m, result.point[i, j], low[i, j], high[i, j])
            for j, k in enumerate(result.ks) for i, m in enumerate(result.models)]
    return pd.DataFrame(rows, columns=PASSK_CI_COLUMNS)


def difference_intervals(result: BootstrapResult, base: str, rl: str, confidence: float = 0.95) -> pd.DataFrame:
    """One row per k: base − RL mean pass@k and its paired percentile interval."""
    b, r = result.model_index(base), result.model_index(rl)
    diff_replicates = result.replicates[:, b, :] - result.replicates[:, r, :]
    low, high = percentiles(diff_replicates, confidence)
    return pd.DataFrame({"k": result.ks, "diff": result.point[b] - result.point[r], "ci_low": low, "ci_high": high},
                        columns=DIFFERENCE_COLUMNS)


def crossover_k(ks: list[int], base_values: np.ndarray, rl_values: np.ndarray) -> int | None:
    """Smallest k (ks ascending) where base pass@k ≥ RL pass@k; None if base stays below RL."""
    hits = np.flatnonzero(np.asarray(base_values) >= np.asarray(rl_values))
    return int(ks[hits[0]]) if len(hits) else None


def crossover_interval(result: BootstrapResult, base: str, rl: str, confidence: float = 0.95) -> dict:
    """Crossover k of the full data and its bootstrap distribution.

    Returns {crossover_k, ci_low, ci_high, median, fraction_no_crossover, distribution: {k or "none": share}}.
    Interval ends are evaluated ks (lower/higher order statistics), None where they fall on "no crossover".
    """
    b, r = result.model_index(base), result.model_index(rl)
    ks = np.asarray(result.ks)
    at_or_above = result.replicates[:, b, :] >= result.replicates[:, r, :]  # (B, K)
    has_crossover = at_or_above.any(axis=1)
    # position of the first k with base >= RL; len(ks) stands for "no crossover" (beyond every k)
    position = np.where(has_crossover, at_or_above.argmax(axis=1), len(ks))
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    alpha = (1 - confidence) / 2

    def as_k(pos: float) -> int | None:
        return None if pos >= len(ks) else int(ks[int(pos)])

    shares = np.bincount(position, minlength=len(ks) + 1) / len(position)
    distribution = {str(k): float(s) for k, s in zip(result.ks, shares[:-1]) if s > 0}
    if shares[-1] > 0:
        distribution["none"] = float(shares[-1])
    return {
        "base": base,
        "rl": rl,
        "confidence": confidence,
        "num_resamples": int(len(position)),
        "crossover_k": crossover_k(result.ks, result.point[b], result.point[r]),
        "ci_low": as_k(np.quantile(position, alpha, method="lower")),
        "ci_high": as_k(np.quantile(position, 1 - alpha, method="higher")),
        "median": as_k(np.quantile(position, 0.5, method="lower")),
        "fraction_no_crossover": float(shares[-1]),
        "distribution": distribution,
    }


def bootstrap_pair(base_per_problem: pd.DataFrame, rl_per_problem: pd.DataFrame, base: str = "base", rl: str = "rl",
                   ks: list[int] | None = None, num_resamples: int = 1000, seed: int = 0, confidence: float = 0.95,
                   labels: dict[str, str] | None = None) -> dict:
    """The whole uncertainty report of one (base, RL) pair on one benchmark.

    Returns {"passk": (k, model, pass@k, ci_low, ci_high), "difference": (k, diff, ci_low, ci_high),
    "crossover": dict (see crossover_interval), "result": BootstrapResult}; `labels` (e.g. pair,
    benchmark) are prepended as constant columns of both tables and added to the crossover dict.
    """
    if base == rl:
        raise ValueError(f"the base and RL models need different names, got {base!r} twice")
    result = bootstrap_mean_passk({base: base_per_problem, rl: rl_per_problem}, ks, num_resamples, seed)
    passk = passk_intervals(result, confidence)
    difference = difference_intervals(result, base, rl, confidence)
    for table in (passk, difference):
        for i, (name, value) in enumerate((labels or {}).items()):
            table.insert(i, name, value)
    crossover = {**(labels or {}), **crossover_interval(result, base, rl, confidence), "seed": seed,
                 "problems": len(result.problem_ids)}
    return {"passk": passk, "difference": difference, "crossover": crossover, "result": result}
