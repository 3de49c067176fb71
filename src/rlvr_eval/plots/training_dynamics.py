"""The paper's Fig. 18 form: reward, response length and entropy against the training step, one line per RL model
(rule training_dynamics; the logs are rlvr_eval.models.rlvr's training_log.csv). In the one style (plots.style):
its writer, legend and markers; every model here is an RL model of one base, so each takes its own colour (a
family's shared colour would make the lines indistinguishable) and a marker every tenth of training."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from rlvr_eval.plots.style import FAMILY_COLOURS, MARKERS, collect_legend, figure_legend, save_figure  # noqa: E402

PANELS = [("reward", "training reward"), ("completion_length", "response length (tokens)"), ("entropy", "entropy (nats/token)")]


def plot_training_dynamics(logs: dict[str, pd.DataFrame], out_prefix: str | Path, window: int = 10) -> list[Path]:
    """logs: model -> training log. Each line is a centred rolling mean over `window` steps (one step's reward is a
    mean over a few dozen 0/1 rewards: too noisy to read the trend)."""
    if not logs:
        raise ValueError("no training logs: nothing to plot")
    fig, axes = plt.subplots(1, len(PANELS), figsize=(4.2 * len(PANELS), 3.4), squeeze=False)
    for ax, (column, label) in zip(axes[0], PANELS):
        for i, (model, log) in enumerate(logs.items()):
            log = log.sort_values("step")
            smooth = log[column].rolling(window, center=True, min_periods=1).mean()
            ax.plot(log["step"], smooth, color=FAMILY_COLOURS[i % len(FAMILY_COLOURS)], linewidth=1.3,
                    marker=MARKERS[i % len(MARKERS)], markersize=4, markevery=max(1, len(log) // 10), label=model)
        ax.set_xlabel("training step")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    figure_legend(fig, collect_legend(axes[0]), note=f"each line: rolling mean over {window} steps")
    return save_figure(fig, out_prefix)
