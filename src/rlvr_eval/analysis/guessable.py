"""pass@k of a pair without the problems a model can guess: the paper's filtered AIME24 (v2, Fig. 12, App. D.2).

The paper samples Qwen2.5-7B with a prompt asking for the answer alone, no reasoning. A problem answered
correctly that way in more than 0 and under 5 % of the samples counts as guessable and is removed; one never
answered directly, or answered often (an easy problem), stays. pass@k of the pair is then the mean over the kept
problems. On AIME24 the paper keeps 18 of 30.

Inputs are per-problem metrics (rlvr_eval.metrics.passk schema): the direct-answer model's (n, c) and the pair's.

Table schema (`results/analysis/guessable/{pair}/{benchmark}.csv`), one row per k of the pair's common ks:
pair, benchmark, base, rl, k, base_pass@k, rl_pass@k (fractions, means over the kept problems), kept, removed
(problem counts). The JSON beside it lists the direct model, max_rate, and each problem's direct solve rate with
whether it was kept.
"""

from __future__ import annotations

import pandas as pd

from rlvr_eval.analysis.bootstrap import passk_columns

GUESSABLE_COLUMNS = ["pair", "benchmark", "base", "rl", "k", "base_pass@k", "rl_pass@k", "kept", "removed"]


def direct_solve_rates(direct: pd.DataFrame) -> pd.Series:
    """Each problem's share of correct direct answers, c / n, indexed by problem_id."""
    return (direct["c"] / direct["n"]).set_axis(direct["problem_id"].astype(str))


def guessable_ids(direct: pd.DataFrame, max_rate: float) -> list[str]:
    """Problems answered correctly without reasoning in more than 0 and under max_rate of the samples."""
    rates = direct_solve_rates(direct)
    return sorted(rates[(rates > 0) & (rates < max_rate)].index)


def filtered_passk(base: pd.DataFrame, rl: pd.DataFrame, direct: pd.DataFrame, max_rate: float, *, pair: str,
                   benchmark: str, base_model: str, rl_model: str) -> tuple[pd.DataFrame, dict]:
    """The pair's pass@k on the problems left after removing the guessable ones, and what was removed and why."""
    ids = [set(t["problem_id"].astype(str)) for t in (base, rl, direct)]
    if not ids[0] == ids[1] == ids[2]:
        raise ValueError(f"{pair} on {benchmark}: the base, RL and direct-answer models were not evaluated on the same "
                         f"problems ({len(ids[0])}, {len(ids[1])}, {len(ids[2])} problems)")
    removed = set(guessable_ids(direct, max_rate))
    if removed == ids[0]:
        raise ValueError(f"{pair} on {benchmark}: every problem is guessable at max_rate {max_rate}: nothing is left")
    ks = sorted(set(passk_columns(base)) & set(passk_columns(rl)))
    kept = {name: t[~t["problem_id"].astype(str).isin(removed)] for name, t in (("base", base), ("rl", rl))}
    table = pd.DataFrame([{"pair": pair, "benchmark": benchmark, "base": base_model, "rl": rl_model, "k": k,
                           "base_pass@k": float(kept["base"][f"pass@{k}"].mean()),
                           "rl_pass@k": float(kept["rl"][f"pass@{k}"].mean()),
                           "kept": len(kept["base"]), "removed": len(removed)} for k in ks], columns=GUESSABLE_COLUMNS)
    rates = direct_solve_rates(direct)
    detail = {"max_rate": max_rate, "removed": sorted(removed), "kept": sorted(ids[0] - removed),
              "direct_solve_rate": {pid: float(rates[pid]) for pid in sorted(rates.index)}}
    return table, detail
