"""The sampling-efficiency gap ΔSE of RL pairs: how far an RL model's pass@1 is from its base model's pass@k.

    ΔSE = base pass@k − RL pass@1,   k = 256 as in the paper's Table 2 (analysis.delta_se.k), or the pair's n if smaller

The paper's upper bound argument (its Table 2): if RL only re-weights what the base model can already sample,
a perfect RL algorithm would reach the base model's pass@k at k = 1, so ΔSE measures how far from that each
algorithm stays. The interval is a paired bootstrap over problems (rlvr_eval.analysis.bootstrap), the same
resampled problems for both terms.

Table schema (`results/tables/delta_se.csv`), one row per (pair, benchmark): pair, benchmark, base, rl, k,
base_pass@k, rl_pass@1, delta_se, ci_low, ci_high (all four fractions of 1, as in the Markdown table).
"""

from __future__ import annotations

import pandas as pd

from rlvr_eval.analysis.bootstrap import bootstrap_mean_passk, percentiles
from rlvr_eval.metrics.tables import settings_heading, with_note

DELTA_SE_COLUMNS = ["pair", "benchmark", "base", "rl", "k", "base_pass@k", "rl_pass@1", "delta_se", "ci_low", "ci_high"]


def delta_se(base: pd.DataFrame, rl: pd.DataFrame, k: int, num_resamples: int = 1000, seed: int = 0,
             confidence: float = 0.95) -> dict:
    """ΔSE of one pair on one benchmark from per-problem metrics (rlvr_eval.metrics.passk schema: pass@k columns or n, c)."""
    result = bootstrap_mean_passk({"base": base, "rl": rl}, ks=sorted({1, k}), num_resamples=num_resamples, seed=seed)
    at_k, at_1 = result.ks.index(k), result.ks.index(1)
    replicates = result.replicates[:, 0, at_k] - result.replicates[:, 1, at_1]
    low, high = percentiles(replicates, confidence)
    return {"k": k, "base_pass@k": float(result.point[0, at_k]), "rl_pass@1": float(result.point[1, at_1]),
            "delta_se": float(result.point[0, at_k] - result.point[1, at_1]), "ci_low": float(low),
            "ci_high": float(high)}


def delta_se_table(rows: list[dict]) -> pd.DataFrame:
    """rows: {pair, benchmark, base, rl} + delta_se()'s keys."""
    return pd.DataFrame(rows, columns=DELTA_SE_COLUMNS)


def to_markdown(table: pd.DataFrame, note: str = "", settings: list[dict] | None = None) -> str:
    """The table in Markdown; `note`: what the run left out (rlvr_eval.planning.left_out); `settings`: the grader and
    sampling settings of its models (planning.table_settings)."""
    lines = ["### Sampling-efficiency gap ΔSE = base pass@k − RL pass@1 (fractions of 1, 95 % bootstrap interval)", "",
             *([f"Samples: {settings_heading(settings)}.", ""] if settings else []),
             "| pair | benchmark | k | base pass@k | RL pass@1 | ΔSE | interval |", "|---|---|---:|---:|---:|---:|---|"]
    for _, r in table.iterrows():
        lines.append(f"| {r['pair']} | {r['benchmark']} | {r['k']} | {r['base_pass@k']:.3f} | "
                     f"{r['rl_pass@1']:.3f} | {r['delta_se']:.3f} | [{r['ci_low']:.3f}, {r['ci_high']:.3f}] |")
    return with_note("\n".join(lines) + "\n", note)
