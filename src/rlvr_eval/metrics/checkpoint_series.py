"""pass@k along RL training: the starting model (step 0), the checkpoints and the final model of an rlvr run, or
the checkpoints a model lists (`models.<name>.checkpoints`: hub revisions, local paths or other models).

Table (`results/tables/checkpoints/{model}/{benchmark}.csv`), one row per training step:

| column  | meaning                                                          |
|---------|------------------------------------------------------------------|
| step    | training step (0: the model training started from)               |
| model   | the model entry of the config sampled at that step               |
| pass@k  | one column per k of the benchmark's pass@k table (mean over problems) |

Summary (`results/tables/checkpoints/{model}/{benchmark}.summary.csv`, the paper's Table 3 form), one row per step:
step, model, k_max (the model's n: its largest k), pass@1, pass@k_max.

Figures: `{benchmark}.png` puts pass@k against the step for k = 1, n and the powers of 4 between, beside the
mean training reward per step for an rlvr model (from the run's `training_log.csv`, schema in `rlvr.py`);
`{benchmark}.passk.png` puts pass@k against k, one curve per step (the paper's Fig. 1 right).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from rlvr_eval.plots.style import passk_axes, save_as  # noqa: E402


def series_table(passk: pd.DataFrame, series: list[tuple[int, str]]) -> pd.DataFrame:
    """passk: a pass@k table (k, one column per model); series: (step, model) in training order."""
    missing = [m for _, m in series if m not in passk]
    if missing:
        raise KeyError(f"models {missing} are not in the pass@k table (columns: {list(passk.columns)})")
    rows = [{"step": step, "model": model, **{f"pass@{k}": v for k, v in zip(passk["k"], passk[model])}}
            for step, model in series]
    return pd.DataFrame(rows)


def series_markdown(table: pd.DataFrame, title: str) -> str:
    ks = [c for c in table.columns if c.startswith("pass@")]
    lines = [f"### {title}", "", "Mean pass@k over problems, in %.", "",
             "| step | model | " + " | ".join(ks) + " |", "|---:|---|" + "---:|" * len(ks)]
    lines += [f"| {r['step']} | {r['model']} | " + " | ".join(f"{100 * r[k]:.1f}" for k in ks) + " |"
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


def summary_markdown(summary: pd.DataFrame, title: str) -> str:
    lines = [f"### {title}", "", "Mean over problems, in %; k_max is each model's n.", "",
             "| step | model | pass@1 | k_max | pass@k_max |", "|---:|---|---:|---:|---:|"]
    lines += [f"| {r['step']} | {r['model']} | {100 * r['pass@1']:.1f} | {r['k_max']} | {100 * r['pass@k_max']:.1f} |"
              for _, r in summary.iterrows()]
    return "\n".join(lines) + "\n"


def plot_passk_by_step(table: pd.DataFrame, title: str, png: str, pdf: str | None = None) -> None:
    """pass@k against k, one curve per training step, coloured from early (light) to late (dark)."""
    ks = [int(c.split("@")[1]) for c in table.columns if c.startswith("pass@")]
    fig, ax = plt.subplots(figsize=(4.8, 3.4))
    colours = plt.get_cmap("viridis_r")([0.15 + 0.85 * i / max(len(table) - 1, 1) for i in range(len(table))])
    for colour, (_, r) in zip(colours, table.iterrows()):
        values = pd.Series([r[f"pass@{k}"] for k in ks], index=ks).dropna()
        ax.plot(values.index, 100 * values.values, marker="o", markersize=3, color=colour, label=f"step {r['step']}")
    passk_axes(ax, ks, title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, png, pdf)


def _save(fig, png: str, pdf: str | None) -> None:
    save_as(fig, filter(None, (png, pdf)))


def plotted_ks(ks: list[int]) -> list[int]:
    n = max(ks)
    return [k for k in ks if k == 1 or k == n or (k & (k - 1) == 0 and k.bit_length() % 2 == 1)]


def plot_series(table: pd.DataFrame, log: pd.DataFrame | None, title: str, png: str, pdf: str | None = None) -> None:
    ks = [int(c.split("@")[1]) for c in table.columns if c.startswith("pass@")]
    fig, axes = plt.subplots(1, 2 if log is not None else 1, figsize=(9 if log is not None else 4.8, 3.4), squeeze=False)
    ax = axes[0, 0]
    for i, k in enumerate(plotted_ks(ks)):
        ax.plot(table["step"], 100 * table[f"pass@{k}"], marker="o", markersize=4, color=f"C{i}", label=f"pass@{k}")
    ax.set_xlabel("RL training step")
    ax.set_ylabel("pass@k (%)")
    ax.set_ylim(0, 100)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if log is not None:
        ax = axes[0, 1]
        ax.plot(log["step"], log["reward"], color="C7", alpha=0.4, label="per step")
        ax.plot(log["step"], log["reward"].rolling(10, min_periods=1).mean(), color="C3", label="mean of 10 steps")
        ax.set_xlabel("RL training step")
        ax.set_ylabel("training reward (share correct)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, png, pdf)
