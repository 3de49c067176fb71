"""The checkpoint-series figures (rule checkpoint_series; tables in rlvr_eval.metrics.checkpoint_series):
pass@k against the training step beside the training reward, and pass@k against k, one curve per step."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from rlvr_eval.plots.style import passk_axes, save_as  # noqa: E402


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
