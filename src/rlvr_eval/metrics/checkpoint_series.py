"""pass@k along RL training: the starting model (step 0), the checkpoints and the final model of an rlvr run, or
the checkpoints a model lists (`models.<name>.checkpoints`: hub revisions, local paths or other models).

Table (`results/tables/checkpoints/{model}/{benchmark}.csv`), one row per training step:

| column  | meaning                                                          |
|---------|------------------------------------------------------------------|
| step    | training step (0: the model training started from)               |
| model   | the model entry of the config sampled at that step               |
| pass@k  | one column per k of the benchmark's pass@k table (mean over problems, a fraction of 1) |

Summary (`results/tables/checkpoints/{model}/{benchmark}.summary.csv`, the paper's Table 3 form), one row per step:
step, model, k_max (the model's n: its largest k), pass@1, pass@k_max (fractions of 1). The Markdown tables hold the
same fractions, headed with the unit and the grader and sampling settings.

Figures (rlvr_eval.plots.checkpoint_figures): `{benchmark}.png` puts pass@k against the step for k = 1, n and
the powers of 4 between, beside the mean training reward per step for an rlvr model (from the run's
`training_log.csv`, schema in `rlvr.py`); `{benchmark}.passk.png` puts pass@k against k, one curve per step (the
paper's Fig. 1 right).
"""

from __future__ import annotations

import pandas as pd

from rlvr_eval.metrics.tables import settings_heading


def series_table(passk: pd.DataFrame, series: list[tuple[int, str]]) -> pd.DataFrame:
    """passk: a pass@k table (k, one column per model); series: (step, model) in training order."""
    missing = [m for _, m in series if m not in passk]
    if missing:
        raise KeyError(f"models {missing} are not in the pass@k table (columns: {list(passk.columns)})")
    rows = [{"step": step, "model": model, **{f"pass@{k}": v for k, v in zip(passk["k"], passk[model])}}
            for step, model in series]
    return pd.DataFrame(rows)


def series_markdown(table: pd.DataFrame, title: str, settings: list[dict] | None = None) -> str:
    """The series table in Markdown, in the CSV's unit; `settings`: the summary entries of the series' models."""
    ks = [c for c in table.columns if c.startswith("pass@")]
    lines = [_heading(title, settings), "", "Mean pass@k over problems, as a fraction (0 to 1).", "",
             "| step | model | " + " | ".join(ks) + " |", "|---:|---|" + "---:|" * len(ks)]
    lines += [f"| {r['step']} | {r['model']} | " + " | ".join(f"{r[k]:.3f}" for k in ks) + " |"
              for _, r in table.iterrows()]
    return "\n".join(lines) + "\n"


def summary_table(table: pd.DataFrame) -> pd.DataFrame:
    """pass@1 and pass@k_max per step from a series table; k_max is each model's own largest k (its n)."""
    ks = [c for c in table.columns if c.startswith("pass@")]
    rows = []
    for _, r in table.iterrows():
        kmax = max(int(k.split("@")[1]) for k in ks if pd.notna(r[k]))
        rows.append({"step": r["step"], "model": r["model"], "k_max": kmax, "pass@1": r["pass@1"],
                     "pass@k_max": r[f"pass@{kmax}"]})
    return pd.DataFrame(rows)


def _heading(title: str, settings: list[dict] | None) -> str:
    return f"### {title}" + (f" ({settings_heading(settings)})" if settings else "")


def summary_markdown(summary: pd.DataFrame, title: str, settings: list[dict] | None = None) -> str:
    lines = [_heading(title, settings), "", "Mean over problems, as a fraction (0 to 1); k_max is each model's n.", "",
             "| step | model | pass@1 | k_max | pass@k_max |", "|---:|---|---:|---:|---:|"]
    lines += [f"| {r['step']} | {r['model']} | {r['pass@1']:.3f} | {r['k_max']} | {r['pass@k_max']:.3f} |"
              for _, r in summary.iterrows()]
    return "\n".join(lines) + "\n"
