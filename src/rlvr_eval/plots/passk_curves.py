"""pass@k curves in the paper's layout: one panel per benchmark, every model evaluated on it, each with its
bootstrap band (style: rlvr_eval.plots.style)."""

from __future__ import annotations

import pandas as pd

from rlvr_eval.analysis.bootstrap import bootstrap_mean_passk, passk_intervals
from rlvr_eval.plots.style import collect_legend, draw_band, figure_legend, model_styles, panels, passk_axes, save_as

BAND_COLUMNS = ["benchmark", "model", "k", "ci_low", "ci_high"]


def unpaired_intervals(per_problem: pd.DataFrame, model: str, benchmark: str, num_resamples: int, seed: int,
                       confidence: float) -> pd.DataFrame:
    """Bootstrap band of a model in no pair (rule bootstrap_passk covers the paired ones), with the same
    resamples, seed and confidence: BAND_COLUMNS."""
    result = bootstrap_mean_passk({model: per_problem}, None, num_resamples, seed)
    table = passk_intervals(result, confidence)
    table.insert(0, "benchmark", benchmark)
    return table


def plot_passk_curves(tables: dict[str, pd.DataFrame], pairs: list[dict], png: str, pdf: str | None = None,
                      note: str = "", intervals: pd.DataFrame | None = None,
                      every_model: list[str] | None = None) -> None:
    """Write passk_curves_figure to png (and pdf)."""
    save_as(passk_curves_figure(tables, pairs, note, intervals, every_model), filter(None, (png, pdf)))


def passk_curves_figure(tables: dict[str, pd.DataFrame], pairs: list[dict], note: str = "",
                        intervals: pd.DataFrame | None = None, every_model: list[str] | None = None):
    """The matplotlib Figure. tables: benchmark -> pass@k table (rlvr_eval.metrics.tables schema: k, then one
    column per model): every model column is drawn. intervals: BAND_COLUMNS (rule bootstrap_passk's tables,
    concatenated) for the bands; a curve without one is named under the panels. `note`: what the run left out.
    every_model: the config's models, for colours and markers that match the pairs' figures
    (rlvr_eval.plots.style.model_styles)."""
    in_pairs = [m for p in pairs for m in (p["base"], p["rl"])]
    on_benchmarks = [m for t in tables.values() for m in t.columns if m != "k"]
    models = list(dict.fromkeys([m for m in in_pairs if m in on_benchmarks] + on_benchmarks))
    styles = model_styles(models, pairs, every_model)
    bands = {} if intervals is None else {key: rows.sort_values("k") for key, rows in
                                          intervals.drop_duplicates(["benchmark", "model", "k"])
                                          .groupby(["benchmark", "model"], sort=False)}
    without_band: dict[str, list[str]] = {}  # model -> benchmarks
    fig, axes = panels(len(tables))
    for ax, (benchmark, table) in zip(axes, tables.items()):
        for model in (m for m in models if m in table.columns):
            style = styles[model]
            ax.plot(table["k"], 100 * table[model], **style.line())
            band = bands.get((benchmark, model))
            if band is None:
                without_band.setdefault(model, []).append(benchmark)
                continue
            draw_band(ax, style, band["k"], band["ci_low"], band["ci_high"])
        passk_axes(ax, table["k"], benchmark)
    notes = [note] if note else []
    if intervals is None:
        notes.append("no bootstrap bands")
    elif without_band:
        notes.append("no bootstrap band: " + "; ".join(f"{m} on {', '.join(bs)}" for m, bs in without_band.items()))
    figure_legend(fig, collect_legend(axes), note="\n".join(notes))
    fig.tight_layout()
    return fig
