"""Paper-style figures of the analyses: pass@k with bootstrap bands, accuracy histograms, coverage
bars, perplexity box plots.

Every function takes DataFrames in the schemas of the analysis modules and an output path prefix,
writes `<prefix>.png` and `<prefix>.pdf` atomically, and returns the two paths. Models and groups
differ by line style, marker and hatch as well as by colour, so the figures read in grayscale.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from rlvr_eval.io import atomic_path  # noqa: E402
from rlvr_eval.analysis.accuracy_hist import ACCURACY_BINS  # noqa: E402
from rlvr_eval.analysis.coverage import GROUPS  # noqa: E402

LINESTYLES = ["-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1))]
MARKERS = "osD^v<>p*h"
HATCHES = ["", "///", "...", "xxx", "\\\\\\", "ooo", "+++", "---"]
# colours of decreasing luminance: distinct in colour and in grayscale
COLOURS = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c"]
GROUP_STYLE = {  # coverage groups: light (solved by both) to dark (solved by neither), each hatched differently
    "both": ("#d9d9d9", ""), "base_only": ("#969696", "///"), "rl_only": ("#525252", "xxx"), "neither": ("#ffffff", "...")}
GROUP_LABELS = {"both": "both", "base_only": "base only", "rl_only": "RL only", "neither": "neither"}


def save_figure(fig, out_prefix: str | Path) -> list[Path]:
    """Write <prefix>.png and <prefix>.pdf (atomically), close the figure, return the paths."""
    paths = [Path(f"{out_prefix}.png"), Path(f"{out_prefix}.pdf")]
    for path in paths:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=path.suffix[1:], dpi=150, bbox_inches="tight")
    plt.close(fig)
    return paths


def _ordered(values: pd.Series, order: list[str] | None = None) -> list:
    seen = list(dict.fromkeys(values))  # order of first appearance
    if order is None:
        return seen
    unknown = [v for v in order if v not in seen]
    if unknown:
        raise ValueError(f"{unknown} not in the table (present: {seen})")
    return list(order)


def _panels(count: int, width: float = 4.2, height: float = 3.4, max_cols: int = 3):
    cols = min(count, max_cols)
    rows = (count + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in list(axes.flat)[count:]:
        ax.axis("off")
    return fig, list(axes.flat)[:count]


def _require(df: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what} table lacks columns {missing} (has {list(df.columns)})")
    if df.empty:
        raise ValueError(f"{what} table is empty: nothing to plot")


def _benchmarks(df: pd.DataFrame) -> list:
    return _ordered(df["benchmark"]) if "benchmark" in df.columns else [None]


def _legend(fig, axes, ncol: int) -> None:
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=min(ncol, max(len(labels), 1)),
               fontsize=8, frameon=False)


def plot_passk_grid(passk: pd.DataFrame, out_prefix: str | Path, models: list[str] | None = None) -> list[Path]:
    """One panel per benchmark, log2 k axis, one line per model with its bootstrap band.

    passk: columns k, model, pass@k and optionally ci_low, ci_high, benchmark (rlvr_eval.analysis.bootstrap
    schema, tables of several pairs concatenated; a model shared by two pairs is drawn once).
    """
    _require(passk, ["k", "model", "pass@k"], "pass@k")
    keys = ["benchmark", "k", "model"] if "benchmark" in passk.columns else ["k", "model"]
    passk = passk.drop_duplicates(keys)
    models = _ordered(passk["model"], models)
    benchmarks = _benchmarks(passk)
    fig, axes = _panels(len(benchmarks))
    for ax, benchmark in zip(axes, benchmarks):
        panel = passk if benchmark is None else passk[passk["benchmark"] == benchmark]
        for i, model in enumerate(models):
            line = panel[panel["model"] == model].sort_values("k")
            if line.empty:
                continue
            colour = COLOURS[i % len(COLOURS)]
            ax.plot(line["k"], 100 * line["pass@k"], linestyle=LINESTYLES[i % len(LINESTYLES)],
                    marker=MARKERS[i % len(MARKERS)], markersize=4, color=colour, label=model)
            if {"ci_low", "ci_high"} <= set(line.columns):
                ax.fill_between(line["k"], 100 * line["ci_low"], 100 * line["ci_high"], facecolor=colour, alpha=0.18,
                                edgecolor=colour, hatch=HATCHES[i % len(HATCHES)], linewidth=0)
        ax.set_xscale("log", base=2)
        ax.set_title(benchmark or "")
        ax.set_xlabel("k (samples)")
        ax.set_ylabel("pass@k (%)")
        ax.grid(alpha=0.3)
    _legend(fig, axes, 4)
    fig.tight_layout()
    return save_figure(fig, out_prefix)


def plot_accuracy_histograms(hist: pd.DataFrame, out_prefix: str | Path, models: list[str] | None = None,
                             value: str = "fraction") -> list[Path]:
    """Grouped bars: per-problem accuracy bins on x, one hatched bar per model; one panel per benchmark.

    hist: columns bin, model, count, fraction, optionally benchmark (rlvr_eval.analysis.accuracy_hist).
    value: "fraction" (in %) or "count".
    """
    _require(hist, ["bin", "model", value], "accuracy histogram")
    hist = hist.drop_duplicates(["benchmark", "bin", "model"] if "benchmark" in hist.columns else ["bin", "model"])
    unknown_bins = sorted(set(hist["bin"]) - set(ACCURACY_BINS))
    if unknown_bins:
        raise ValueError(f"unknown accuracy bins {unknown_bins}; expected {ACCURACY_BINS}")
    models = _ordered(hist["model"], models)
    benchmarks = _benchmarks(hist)
    fig, axes = _panels(len(benchmarks), width=5.6)
    x = np.arange(len(ACCURACY_BINS))
    width = 0.8 / len(models)
    scale = 100 if value == "fraction" else 1
    for ax, benchmark in zip(axes, benchmarks):
        panel = hist if benchmark is None else hist[hist["benchmark"] == benchmark]
        for i, model in enumerate(models):
            heights = panel[panel["model"] == model].set_index("bin")[value].reindex(ACCURACY_BINS).fillna(0)
            ax.bar(x - 0.4 + (i + 0.5) * width, scale * heights.to_numpy(), width, label=model,
                   color=COLOURS[i % len(COLOURS)], edgecolor="black", linewidth=0.6, hatch=HATCHES[i % len(HATCHES)])
        ax.set_xticks(x, ACCURACY_BINS, rotation=45, ha="right", fontsize=7)
        ax.set_xlabel("per-problem accuracy c/n")
        ax.set_ylabel("problems (%)" if value == "fraction" else "problems")
        ax.set_title(benchmark or "")
        ax.grid(axis="y", alpha=0.3)
    _legend(fig, axes, 4)
    fig.tight_layout()
    return save_figure(fig, out_prefix)


def plot_coverage_bars(coverage: pd.DataFrame, out_prefix: str | Path, largest_k_only: bool = True) -> list[Path]:
    """Stacked bars, one per (pair, benchmark, k): % of problems solved by both / base only / RL only / neither.

    coverage: columns pair, benchmark, k, group, fraction (rlvr_eval.analysis.coverage).
    largest_k_only: one bar per (pair, benchmark), at its largest k (the paper's k = n); False: every k.
    """
    _require(coverage, ["pair", "benchmark", "k", "group", "fraction"], "coverage")
    if largest_k_only:
        largest = coverage.groupby(["pair", "benchmark"], sort=False)["k"].transform("max")
        coverage = coverage[coverage["k"] == largest]
    unknown_groups = sorted(set(coverage["group"]) - set(GROUPS))
    if unknown_groups:
        raise ValueError(f"unknown coverage groups {unknown_groups}; expected {list(GROUPS)}")
    bars = list(dict.fromkeys(zip(coverage["pair"], coverage["benchmark"], coverage["k"])))
    wide = coverage.set_index(["pair", "benchmark", "k", "group"])["fraction"]
    fig, ax = plt.subplots(figsize=(max(4.0, 1.1 * len(bars) + 1.5), 3.8))
    x = np.arange(len(bars))
    bottom = np.zeros(len(bars))
    for group in GROUPS:
        heights = 100 * np.array([wide.get((*bar, group), 0.0) for bar in bars])
        colour, hatch = GROUP_STYLE[group]
        ax.bar(x, heights, 0.6, bottom=bottom, label=GROUP_LABELS[group], color=colour, hatch=hatch,
               edgecolor="black", linewidth=0.6)
        for xi, b, h in zip(x, bottom, heights):
            if h >= 4:  # label segments tall enough to hold the text
                ax.text(xi, b + h / 2, f"{h:.1f}", ha="center", va="center", fontsize=7,
                        bbox=dict(facecolor="white", edgecolor="none", pad=0.5, alpha=0.8))
        bottom += heights
    ax.set_xticks(x, [f"{p}\n{b}\nk={k}" for p, b, k in bars], fontsize=7)
    ax.set_ylabel("problems (%)")
    ax.set_ylim(0, 100)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=4, fontsize=8, frameon=False)
    fig.tight_layout()
    return save_figure(fig, out_prefix)


def plot_perplexity_boxes(perplexity: pd.DataFrame, out_prefix: str | Path, response_models: list[str] | None = None,
                          max_problems: int | None = 20, empty_note: str | None = None) -> list[Path]:
    """Per problem, one box per response model of the scored model's perplexity on those responses;
    one panel per scored model (and benchmark, if the table has that column).

    perplexity: rlvr_eval.analysis.perplexity schema (problem_id, scored_model, response_model, perplexity).
    max_problems: the first problems by id, to keep the x axis legible (None: all).
    """
    if perplexity.empty and empty_note:  # nothing was meant to be scored: say why on the figure
        fig, axes = _panels(1)
        axes[0].text(0.5, 0.5, empty_note, ha="center", va="center", wrap=True)
        axes[0].axis("off")
        return save_figure(fig, out_prefix)
    _require(perplexity, ["problem_id", "scored_model", "response_model", "perplexity"], "perplexity")
    data = perplexity.dropna(subset=["perplexity"])
    if data.empty:  # e.g. every response beyond the scoring model's context: say so on the figure
        fig, axes = _panels(1)
        skipped = perplexity["status"].value_counts().to_dict() if "status" in perplexity else {}
        axes[0].text(0.5, 0.5, empty_note or f"no response could be scored\n{skipped}", ha="center", va="center",
                     wrap=True)
        axes[0].axis("off")
        return save_figure(fig, out_prefix)
    response_models = _ordered(data["response_model"], response_models)
    panel_keys = ["benchmark", "scored_model"] if "benchmark" in data.columns else ["scored_model"]
    panels = list(dict.fromkeys(map(tuple, data[panel_keys].to_numpy())))
    fig, axes = _panels(len(panels), width=7.0, max_cols=1)
    width = 0.8 / len(response_models)
    for ax, key in zip(axes, panels):
        panel = data[(data[panel_keys] == pd.Series(key, index=panel_keys)).all(axis=1)]
        problems = sorted(panel["problem_id"].astype(str).unique())[:max_problems]
        for i, model in enumerate(response_models):
            rows = panel[panel["response_model"] == model]
            groups = [rows.loc[rows["problem_id"].astype(str) == p, "perplexity"].to_numpy() for p in problems]
            positions = [j - 0.4 + (i + 0.5) * width for j, g in enumerate(groups) if len(g)]
            groups = [g for g in groups if len(g)]
            if not groups:
                continue
            box = ax.boxplot(groups, positions=positions, widths=width * 0.9, patch_artist=True, manage_ticks=False,
                             flierprops=dict(marker=MARKERS[i % len(MARKERS)], markersize=3))
            for patch in box["boxes"]:
                patch.set(facecolor=COLOURS[i % len(COLOURS)], hatch=HATCHES[i % len(HATCHES)], alpha=0.8)
            for median in box["medians"]:
                median.set(color="black", linestyle=LINESTYLES[i % len(LINESTYLES)], linewidth=1.4)
        ax.set_xticks(np.arange(len(problems)), problems, rotation=60, ha="right", fontsize=6)
        ax.set_xlim(-0.6, len(problems) - 0.4)
        ax.set_xlabel("problem")
        ax.set_ylabel(f"perplexity under {key[-1]}")
        ax.set_title(" / ".join(str(k) for k in key))
        ax.grid(axis="y", alpha=0.3)
    handles = [Patch(facecolor=COLOURS[i % len(COLOURS)], hatch=HATCHES[i % len(HATCHES)], edgecolor="black",
                     label=f"responses of {model}") for i, model in enumerate(response_models)]
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=min(4, len(handles)), fontsize=8,
               frameon=False)
    fig.tight_layout()
    return save_figure(fig, out_prefix)
