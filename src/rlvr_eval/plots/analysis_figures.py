"""Paper-style figures of the analyses: pass@k with bootstrap bands, accuracy histograms, coverage
bars, perplexity box plots, in the style of rlvr_eval.plots.style (a family colour per pair, base solid and
RL dashed, a marker per model).

Every function takes DataFrames in the schemas of the analysis modules and an output path prefix,
writes `<prefix>.png` and `<prefix>.pdf` atomically, and returns the two paths. `pairs` are the config's
pairs (name, base, rl, optional kind) and `every_model` its models: they give each model its family colour,
role and marker, the same in every figure (rlvr_eval.plots.style.model_styles).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from rlvr_eval.analysis.accuracy_hist import ACCURACY_BINS  # noqa: E402
from rlvr_eval.analysis.coverage import GROUPS  # noqa: E402
from rlvr_eval.plots.style import (GROUP_LABELS, GROUP_STYLE, collect_legend, draw_band, figure_legend,  # noqa: E402
                                   model_styles, panels, passk_axes, save_figure)


def _ordered(values: pd.Series, order: list[str] | None = None) -> list:
    seen = list(dict.fromkeys(values))  # order of first appearance
    if order is None:
        return seen
    unknown = [v for v in order if v not in seen]
    if unknown:
        raise ValueError(f"{unknown} not in the table (present: {seen})")
    return list(order)


def _require(df: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what} table lacks columns {missing} (has {list(df.columns)})")
    if df.empty:
        raise ValueError(f"{what} table is empty: nothing to plot")


def _benchmarks(df: pd.DataFrame) -> list:
    return _ordered(df["benchmark"]) if "benchmark" in df.columns else [None]


def plot_passk_grid(passk: pd.DataFrame, out_prefix: str | Path, pairs: list[dict],
                    every_model: list[str] | None = None, models: list[str] | None = None) -> list[Path]:
    """Write passk_grid_figure to <prefix>.png/.pdf."""
    return save_figure(passk_grid_figure(passk, pairs, every_model, models), out_prefix)


def passk_grid_figure(passk: pd.DataFrame, pairs: list[dict], every_model: list[str] | None = None,
                      models: list[str] | None = None):
    """One panel per benchmark, log2 k axis, one line per model with its bootstrap band.

    passk: columns k, model, pass@k and optionally ci_low, ci_high, benchmark (rlvr_eval.analysis.bootstrap
    schema, tables of several pairs concatenated; a model shared by two pairs is drawn once).
    """
    _require(passk, ["k", "model", "pass@k"], "pass@k")
    keys = ["benchmark", "k", "model"] if "benchmark" in passk.columns else ["k", "model"]
    passk = passk.drop_duplicates(keys)
    models = _ordered(passk["model"], models)
    styles = model_styles(models, pairs, every_model)
    benchmarks = _benchmarks(passk)
    fig, axes = panels(len(benchmarks))
    for ax, benchmark in zip(axes, benchmarks):
        panel = passk if benchmark is None else passk[passk["benchmark"] == benchmark]
        for model in models:
            line = panel[panel["model"] == model].sort_values("k")
            if line.empty:
                continue
            ax.plot(line["k"], 100 * line["pass@k"], **styles[model].line())
            if {"ci_low", "ci_high"} <= set(line.columns):
                draw_band(ax, styles[model], line["k"], line["ci_low"], line["ci_high"])
        passk_axes(ax, panel["k"], benchmark or "")
    figure_legend(fig, collect_legend(axes))
    fig.tight_layout()
    return fig


def plot_accuracy_histograms(hist: pd.DataFrame, out_prefix: str | Path, pairs: list[dict],
                             every_model: list[str] | None = None, models: list[str] | None = None,
                             value: str = "fraction") -> list[Path]:
    """Write accuracy_histogram_figure to <prefix>.png/.pdf."""
    return save_figure(accuracy_histogram_figure(hist, pairs, every_model, models, value), out_prefix)


def accuracy_histogram_figure(hist: pd.DataFrame, pairs: list[dict], every_model: list[str] | None = None,
                              models: list[str] | None = None, value: str = "fraction"):
    """Grouped bars: per-problem accuracy bins on x, one bar per model (family colour, hatched by role);
    one panel per benchmark.

    hist: columns bin, model, count, fraction, optionally benchmark (rlvr_eval.analysis.accuracy_hist).
    value: "fraction" (in %) or "count".
    """
    _require(hist, ["bin", "model", value], "accuracy histogram")
    hist = hist.drop_duplicates(["benchmark", "bin", "model"] if "benchmark" in hist.columns else ["bin", "model"])
    unknown_bins = sorted(set(hist["bin"]) - set(ACCURACY_BINS))
    if unknown_bins:
        raise ValueError(f"unknown accuracy bins {unknown_bins}; expected {ACCURACY_BINS}")
    models = _ordered(hist["model"], models)
    styles = model_styles(models, pairs, every_model)
    benchmarks = _benchmarks(hist)
    fig, axes = panels(len(benchmarks), width=4.6)
    x = np.arange(len(ACCURACY_BINS))
    width = 0.8 / len(models)
    scale = 100 if value == "fraction" else 1
    for ax, benchmark in zip(axes, benchmarks):
        panel = hist if benchmark is None else hist[hist["benchmark"] == benchmark]
        for i, model in enumerate(models):
            style = styles[model]
            heights = panel[panel["model"] == model].set_index("bin")[value].reindex(ACCURACY_BINS).fillna(0)
            ax.bar(x - 0.4 + (i + 0.5) * width, scale * heights.to_numpy(), width, label=style.label,
                   color=style.colour, edgecolor="black", linewidth=0.6, hatch=style.hatch)
        ax.set_xticks(x, ACCURACY_BINS, rotation=45, ha="right", fontsize=7)
        ax.set_xlabel("per-problem accuracy c/n")
        ax.set_ylabel("problems (%)" if value == "fraction" else "problems")
        if value == "fraction":
            ax.set_ylim(0, 100)
        ax.set_title(benchmark or "", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    figure_legend(fig, collect_legend(axes))
    fig.tight_layout()
    return fig


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


def plot_perplexity_boxes(perplexity: pd.DataFrame, out_prefix: str | Path, pairs: list[dict],
                          every_model: list[str] | None = None, response_models: list[str] | None = None,
                          empty_note: str | None = None) -> list[Path]:
    """Write perplexity_figure to <prefix>.png/.pdf."""
    return save_figure(perplexity_figure(perplexity, pairs, every_model, response_models, empty_note), out_prefix)


def perplexity_figure(perplexity: pd.DataFrame, pairs: list[dict], every_model: list[str] | None = None,
                      response_models: list[str] | None = None, empty_note: str | None = None):
    """The paper's Fig. 6: per benchmark, the distribution of perplexity over responses, one box per response set
    (family colour, hatched and dashed for RL) grouped by the model that scores it (PPL_scorer(Y_responses)).

    perplexity: rlvr_eval.analysis.perplexity schema (problem_id, scored_model, response_model, perplexity; the
    rule adds benchmark). Panels: one per benchmark, three to a row; their size does not grow with the problems.
    """
    if perplexity.empty and empty_note:  # nothing was meant to be scored: say why on the figure
        return _text_figure(empty_note)
    _require(perplexity, ["problem_id", "scored_model", "response_model", "perplexity"], "perplexity")
    data = perplexity.dropna(subset=["perplexity"])
    if data.empty:  # e.g. every response beyond the scoring model's context: say so on the figure
        skipped = perplexity["status"].value_counts().to_dict() if "status" in perplexity else {}
        return _text_figure(empty_note or f"no response could be scored\n{skipped}")
    response_models = _ordered(data["response_model"], response_models)
    scorers = _ordered(data["scored_model"])
    styles = model_styles(list(dict.fromkeys(scorers + response_models)), pairs, every_model)
    benchmarks = _benchmarks(data)
    boxes = len(scorers) * len(response_models)
    fig, axes = panels(len(benchmarks), width=min(6.0, max(3.6, 1.2 + 0.45 * boxes)))
    width = 0.8 / len(response_models)
    for ax, benchmark in zip(axes, benchmarks):
        panel = data if benchmark is None else data[data["benchmark"] == benchmark]
        for i, model in enumerate(response_models):
            style = styles[model]
            for j, scorer in enumerate(scorers):
                values = panel.loc[(panel["scored_model"] == scorer) & (panel["response_model"] == model), "perplexity"]
                if values.empty:
                    continue
                box = ax.boxplot([values.to_numpy()], positions=[j - 0.4 + (i + 0.5) * width], widths=width * 0.85,
                                 patch_artist=True, manage_ticks=False,
                                 flierprops=dict(marker=style.marker, markersize=3, markeredgecolor=style.colour))
                box["boxes"][0].set(facecolor=style.colour, alpha=0.75, hatch=style.hatch, edgecolor="black",
                                    linestyle=style.linestyle, label=f"responses of {style.label}")
                for part in ("whiskers", "caps"):
                    for artist in box[part]:
                        artist.set(linestyle=style.linestyle)
                box["medians"][0].set(color="black", linewidth=1.4, gid=f"median {scorer} {model}")
        ax.set_xticks(np.arange(len(scorers)), [f"scored by\n{s}" for s in scorers], fontsize=7)
        ax.set_xlim(-0.6, len(scorers) - 0.4)
        ax.set_ylabel("perplexity")
        ax.set_title(benchmark or "", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
        values = panel["perplexity"]
        if values.min() > 0 and values.max() / values.min() > 20:  # a few huge values would flatten the rest
            ax.set_yscale("log")
    legend = {f"responses of {styles[m].label}": Patch(facecolor=styles[m].colour, alpha=0.75, hatch=styles[m].hatch,
                                                      edgecolor="black", linestyle=styles[m].linestyle)
              for m in response_models}
    figure_legend(fig, legend, ncol=3)
    fig.tight_layout()
    return fig


def _text_figure(text: str):
    fig, axes = panels(1)
    axes[0].text(0.5, 0.5, text, ha="center", va="center", wrap=True)
    axes[0].axis("off")
    return fig
