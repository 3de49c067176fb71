"""pass@k along RL training: the starting model (step 0), the checkpoints and the final model of an rlvr run.

Table (`results/tables/checkpoints/{model}/{benchmark}.csv`), one row per training step:

| column  | meaning                                                          |
|---------|------------------------------------------------------------------|
| step    | training step (0: the model training started from)               |
| model   | the model entry of the config sampled at that step               |
| pass@k  | one column per k of the benchmark's pass@k table (mean over problems) |

The figure puts pass@k against the step for k = 1, n and the powers of 4 between, beside the mean
training reward per step (from the run's `training_log.csv`, schema in `rlvr.py`).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from .io import atomic_path  # noqa: E402


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
    for path in filter(None, (png, pdf)):
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=str(path).rsplit(".", 1)[1], dpi=150)
    plt.close(fig)
