"""Coverage of a (base, RL) pair: which problems each model solves within k samples.

A problem is *solved within k* when at least one of its first k samples (sample_index 0 … k-1) is
correct. Every problem falls in exactly one group: solved by both models, by the base model only,
by the RL model only, or by neither. The paper's claim is that RL-solved ⊆ base-solved at large k
(MATH500, Qwen2.5-7B vs SimpleRL-Zoo, k = 128: 92.4 / 3.6 / 1.0 / 3.0 % for both / base only /
RL only / neither), so the report also carries that subset flag.

Inputs are verdict tables (schema in rlvr_eval.verify.graders; any k up to the number of samples)
or per-problem count tables (schema in rlvr_eval.metrics.passk; they only know "solved at k = n").

Outputs: a tidy table, one row per (pair, benchmark, k, group) with count, fraction and the subset
flag, and a JSON-able dict with the problem ids of every group.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from rlvr_eval.io import write_json, write_text

GROUPS = ("both", "base_only", "rl_only", "neither")
COVERAGE_COLUMNS = ["pair", "benchmark", "k", "group", "count", "fraction", "rl_solved_subset_of_base"]


class CoverageError(ValueError):
    pass


def solved_within_k(table: pd.DataFrame, k: int, model: str = "model") -> pd.Series:
    """problem_id -> whether one of the first k samples is correct (bool Series, sorted by id).

    `table`: verdict rows (problem_id, sample_index, correct), or per-problem counts (problem_id, n, c),
    which answer only k = n. Raises CoverageError naming `model` if some problem has fewer than k samples.
    """
    if k < 1:
        raise CoverageError(f"k must be >= 1, got {k}")
    if "sample_index" in table.columns:
        return _solved_from_verdicts(table, k, model)
    if {"n", "c"} <= set(table.columns):
        return _solved_from_counts(table, k, model)
    raise CoverageError(f"{model}: need verdict columns (problem_id, sample_index, correct) or count columns "
                        f"(problem_id, n, c); got {list(table.columns)}")


def _solved_from_verdicts(verdicts: pd.DataFrame, k: int, model: str) -> pd.Series:
    v = verdicts[["problem_id", "sample_index", "correct"]].astype({"problem_id": str, "sample_index": int, "correct": bool})
    duplicated = v.duplicated(["problem_id", "sample_index"])
    if duplicated.any():
        first = v.loc[duplicated, ["problem_id", "sample_index"]].iloc[0].tolist()
        raise CoverageError(f"{model}: {int(duplicated.sum())} duplicate (problem_id, sample_index) verdicts, e.g. {first}")
    problems = pd.Index(sorted(v["problem_id"].unique()), name="problem_id")
    first_k = v[v["sample_index"].between(0, k - 1)]
    available = first_k.groupby("problem_id")["sample_index"].size().reindex(problems, fill_value=0)
    short = available[available < k]
    if len(short):
        raise CoverageError(
            f"{model}: {len(short)} of {len(problems)} problems lack samples 0..{k - 1} needed for coverage at k={k} "
            f"(e.g. problem {short.index[0]!r} has {int(short.iloc[0])} of them; fewest: {int(short.min())}): "
            f"sample more or choose a smaller k")
    return first_k.groupby("problem_id")["correct"].any().reindex(problems).rename(model)


def _solved_from_counts(counts: pd.DataFrame, k: int, model: str) -> pd.Series:
    c = counts[["problem_id", "n", "c"]].astype({"problem_id": str, "n": int, "c": int})
    if c["problem_id"].duplicated().any():
        raise CoverageError(f"{model}: duplicate problem ids in the count table")
    short = c[c["n"] < k]
    if len(short):
        raise CoverageError(f"{model}: {len(short)} of {len(c)} problems have fewer than k={k} samples "
                            f"(e.g. problem {short['problem_id'].iloc[0]!r} has n={int(short['n'].iloc[0])})")
    longer = c[c["n"] > k]
    if len(longer):
        # counts do not say which samples were correct: "solved within k < n" needs the verdicts
        raise CoverageError(f"{model}: a count table gives coverage only at k = n; {len(longer)} problems have "
                            f"n > k={k} (e.g. n={int(longer['n'].iloc[0])}): pass verdict rows to use k < n")
    return c.set_index("problem_id")["c"].gt(0).sort_index().rename(model)


def coverage_groups(base_solved: pd.Series, rl_solved: pd.Series) -> dict[str, list[str]]:
    """Problem ids of each group (GROUPS order). Both Series are indexed by the same problem ids."""
    missing_rl = base_solved.index.difference(rl_solved.index)
    missing_base = rl_solved.index.difference(base_solved.index)
    if len(missing_rl) or len(missing_base):
        raise CoverageError(
            f"the two models cover different problems: {len(missing_rl)} only in the base model's table "
            f"(e.g. {list(missing_rl[:3])}), {len(missing_base)} only in the RL model's (e.g. {list(missing_base[:3])})")
    rl = rl_solved.reindex(base_solved.index).astype(bool)
    base = base_solved.astype(bool)
    masks = {"both": base & rl, "base_only": base & ~rl, "rl_only": ~base & rl, "neither": ~base & ~rl}
    return {g: sorted(base.index[masks[g]].astype(str)) for g in GROUPS}


def common_num_samples(base: pd.DataFrame, rl: pd.DataFrame) -> int:
    """The n shared by every problem of both tables (what "coverage at k = n" means); error if not unique."""
    def sizes(t: pd.DataFrame) -> set[int]:
        if "sample_index" in t.columns:
            return set(t.groupby("problem_id")["sample_index"].nunique().astype(int))
        return set(t["n"].astype(int))

    base_n, rl_n = sizes(base), sizes(rl)
    if len(base_n | rl_n) != 1:
        raise CoverageError(f"coverage at k = n needs one n for every problem of both models; base has n in "
                            f"{sorted(base_n)}, RL in {sorted(rl_n)}: pass explicit ks")
    return base_n.pop()


def coverage_report(base: pd.DataFrame, rl: pd.DataFrame, ks: list[int] | None = None, pair: str = "pair",
                    benchmark: str = "benchmark", base_model: str = "base", rl_model: str = "rl") -> tuple[pd.DataFrame, dict]:
    """Coverage of a pair at each k in `ks` (None: k = n, the common number of samples).

    base, rl: verdict tables or per-problem count tables (see `solved_within_k`).
    Returns (table with COVERAGE_COLUMNS, ids) where ids = {pair, benchmark, base_model, rl_model,
    problems, by_k: {str(k): {group: [problem ids], "counts": {...}, "rl_solved_subset_of_base": bool}}}.
    """
    ks = [common_num_samples(base, rl)] if ks is None else sorted({int(k) for k in ks})
    rows, by_k, problems = [], {}, None
    for k in ks:
        groups = coverage_groups(solved_within_k(base, k, base_model), solved_within_k(rl, k, rl_model))
        total = sum(len(ids) for ids in groups.values())
        if total == 0:
            raise CoverageError(f"{pair}/{benchmark}: no problems to compare")
        problems = total
        subset = len(groups["rl_only"]) == 0
        for g in GROUPS:
            rows.append((pair, benchmark, k, g, len(groups[g]), len(groups[g]) / total, subset))
        by_k[str(k)] = {**groups, "counts": {g: len(groups[g]) for g in GROUPS}, "rl_solved_subset_of_base": subset}
    table = pd.DataFrame(rows, columns=COVERAGE_COLUMNS)
    ids = {"pair": pair, "benchmark": benchmark, "base_model": base_model, "rl_model": rl_model,
           "problems": problems, "ks": ks, "by_k": by_k}
    return table, ids


def write_coverage(table: pd.DataFrame, ids: dict, csv_path: str | Path, json_path: str | Path) -> None:
    write_text(csv_path, table.to_csv(index=False))
    write_json(json_path, ids)
