"""The figures at the paper grid's scale (12 models, six pairs, x 6 benchmarks, synthetic inputs made by the
analysis functions the rules call): what is plotted, not pixels. One style everywhere: a pair's models share a
colour, base solid and RL dashed, a marker per model, a bootstrap band under every pass@k curve, y from 0 to
100 %, k on a log2 axis; no model dropped; a perplexity figure of bounded size."""

from __future__ import annotations

import matplotlib.colors as mcolors
import matplotlib.image
import numpy as np
import pytest
from matplotlib.collections import PolyCollection

from figure_helpers import (PAPER_BENCHMARKS, PAPER_MODELS, PAPER_PAIRS, UNPAIRED, assert_figure_written,
                            synthetic_grid)
from rlvr_eval.plots.analysis_figures import (accuracy_histogram_figure, passk_grid_figure, perplexity_figure,
                                              plot_perplexity_boxes)
from rlvr_eval.plots.passk_curves import passk_curves_figure, plot_passk_curves
from rlvr_eval.plots.style import FAMILY_COLOURS, model_styles

ROLE_OF = {**{p["base"]: "-" for p in PAPER_PAIRS}, **{p["rl"]: "--" for p in PAPER_PAIRS}, UNPAIRED: "-."}


@pytest.fixture(scope="module")
def grid():
    return synthetic_grid(problems=20, resamples=50)


def lines_by_model(ax) -> dict:
    return {line.get_label().rsplit(" (", 1)[0]: line for line in ax.get_lines()}


def assert_passk_panel(ax, benchmark: str, models: list[str], intervals) -> None:
    """Every model of `models` drawn once in its role's line style, each over a band of its own colour whose
    edges are its bootstrap interval; y 0-100, ticks at every power of 2 up to n."""
    lines = lines_by_model(ax)
    assert sorted(lines) == sorted(models)
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == len(lines)
    for model, line in lines.items():
        assert line.get_linestyle() == ROLE_OF[model]
        band = next(b for b in bands if b.get_gid() == f"band {model}")
        assert np.allclose(band.get_facecolor()[0][:3], mcolors.to_rgb(line.get_color()))
        assert (band.get_linestyle()[0][1] is None) == (ROLE_OF[model] == "-")  # edges dashed unless base
        rows = intervals[(intervals["benchmark"] == benchmark) & (intervals["model"] == model)].drop_duplicates("k")
        y = band.get_paths()[0].vertices[:, 1]
        assert y.min() == pytest.approx(100 * rows["ci_low"].min()) and y.max() == pytest.approx(100 * rows["ci_high"].max())
    assert ax.get_ylim() == (0, 100) and min(ax.get_yticks()) == 0  # no negative tick, even where every model fails
    assert ax.get_xscale() == "log"
    n = PAPER_BENCHMARKS[benchmark]
    assert list(ax.get_xticks()) == [2 ** i for i in range(n.bit_length())]


def test_pass_at_k_curves_of_the_paper_grid_show_every_model_with_its_band(grid):
    fig = passk_curves_figure(grid["tables"], PAPER_PAIRS, intervals=grid["intervals"], every_model=PAPER_MODELS)
    axes = [ax for ax in fig.axes if ax.axison]
    assert [ax.get_title() for ax in axes] == list(PAPER_BENCHMARKS)
    for ax, benchmark in zip(axes, PAPER_BENCHMARKS):
        assert_passk_panel(ax, benchmark, PAPER_MODELS, grid["intervals"])  # the unpaired model too
    lines = lines_by_model(axes[0])
    for pair in PAPER_PAIRS:  # a pair shares its colour; Qwen2.5-7B's two RL models share it too
        assert lines[pair["base"]].get_color() == lines[pair["rl"]].get_color()
    colours = {m: line.get_color() for m, line in lines.items()}
    assert len(set(colours.values())) == 6  # five base-model families and the unpaired model
    assert len({line.get_marker() for line in lines.values()}) == 12
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert f"{UNPAIRED} (unpaired)" in legend and "DeepSeek-R1-Distill-Qwen-7B (distilled)" in legend
    assert not [t for t in fig.texts if t.get_text()]  # every curve has its band: nothing to name


def test_a_curve_without_a_bootstrap_band_is_named_in_the_figure(grid, tmp_path):
    without = grid["intervals"][grid["intervals"]["model"] != UNPAIRED]
    fig = passk_curves_figure(grid["tables"], PAPER_PAIRS, note="Left out of this run: x.", intervals=without)
    text = "\n".join(t.get_text() for t in fig.texts)
    assert text.startswith("Left out of this run: x.\nno bootstrap band: ")
    assert text.endswith(f"no bootstrap band: {UNPAIRED} on {', '.join(PAPER_BENCHMARKS)}")
    assert UNPAIRED in lines_by_model(fig.axes[0])  # drawn all the same
    plot_passk_curves(grid["tables"], PAPER_PAIRS, str(tmp_path / "c.png"), str(tmp_path / "c.pdf"), intervals=without)
    assert_figure_written([tmp_path / "c.png", tmp_path / "c.pdf"], tmp_path / "c")


def test_a_pairs_figures_draw_its_models_as_the_grid_figure_does(grid):
    pair = PAPER_PAIRS[1]  # Oat-Zero-7B: the second RL model of a shared base
    data = grid["per_pair"][pair["name"]]
    fig = passk_grid_figure(data["passk"], PAPER_PAIRS, PAPER_MODELS)
    everything = lines_by_model(passk_curves_figure(grid["tables"], PAPER_PAIRS, intervals=grid["intervals"],
                                                    every_model=PAPER_MODELS).axes[0])
    for ax, benchmark in zip(fig.axes, PAPER_BENCHMARKS):
        assert_passk_panel(ax, benchmark, [pair["base"], pair["rl"]], data["passk"])
        for model, line in lines_by_model(ax).items():
            same = everything[model]
            assert (line.get_color(), line.get_linestyle(), line.get_marker()) == \
                (same.get_color(), same.get_linestyle(), same.get_marker())
    hist = accuracy_histogram_figure(data["hist"], PAPER_PAIRS, PAPER_MODELS)
    bars = {c.get_label().rsplit(" (", 1)[0]: c for c in hist.axes[0].containers}
    base_bar, rl_bar = bars[pair["base"]].patches[0], bars[pair["rl"]].patches[0]
    assert base_bar.get_facecolor() == rl_bar.get_facecolor() == mcolors.to_rgba(everything[pair["rl"]].get_color())
    assert (base_bar.get_hatch() or "", rl_bar.get_hatch()) == ("", "///")
    assert all(ax.get_ylim() == (0, 100) for ax in hist.axes if ax.axison)


def test_the_perplexity_figure_stays_readable_at_the_paper_scale(grid, tmp_path):
    """Fig. 6: one box per response set and scoring model, per benchmark; the size does not grow with the
    problems (it was one box per problem, 3,111 px tall, with MATH500's file-path ids as labels)."""
    pair = PAPER_PAIRS[0]
    table = grid["per_pair"][pair["name"]]["perplexity"]
    fig = perplexity_figure(table, PAPER_PAIRS, PAPER_MODELS)
    width, height = fig.get_size_inches()
    assert width <= 12 and height <= 6
    axes = [ax for ax in fig.axes if ax.axison]
    assert [ax.get_title() for ax in axes] == list(PAPER_BENCHMARKS)
    for ax in axes:
        labels = [t.get_text() for t in ax.get_xticklabels()]
        assert labels == [f"scored by\n{pair['base']}", f"scored by\n{pair['rl']}"]  # names, not problem ids
        assert len(ax.patches) == 2 * 3  # two scorers x three response sets
    boxes = {p.get_label(): p for p in axes[0].patches}
    base_box = boxes[f"responses of {pair['base']} (base)"]
    rl_box = boxes[f"responses of {pair['rl']} (RL)"]
    assert base_box.get_facecolor()[:3] == rl_box.get_facecolor()[:3] == mcolors.to_rgb(FAMILY_COLOURS[0])
    assert (base_box.get_hatch() or "", rl_box.get_hatch()) == ("", "///")
    assert base_box.get_linestyle() == "-" and rl_box.get_linestyle() == "--"
    # the median drawn is the data's: PPL_base(Y_rl) on the first benchmark
    first = table[(table["benchmark"] == list(PAPER_BENCHMARKS)[0]) & (table["scored_model"] == pair["base"])
                  & (table["response_model"] == pair["rl"])]
    medians = {line.get_gid(): line.get_ydata()[0] for line in axes[0].get_lines() if line.get_gid()}
    assert first["perplexity"].median() == pytest.approx(medians[f"median {pair['base']} {pair['rl']}"])
    paths = plot_perplexity_boxes(table, tmp_path / "ppl", PAPER_PAIRS, PAPER_MODELS)
    assert_figure_written(paths, tmp_path / "ppl")
    pixels_high, pixels_wide = matplotlib.image.imread(paths[0]).shape[:2]
    assert pixels_high < 1100 and pixels_wide < 2000


def test_roles_and_families_of_the_style():
    pairs = [{"name": "a", "base": "B", "rl": "R"}, {"name": "b", "base": "R", "rl": "R2", "kind": "distilled"}]
    styles = model_styles(["R2", "X", "B", "R"], pairs)
    assert {m: (s.role_label, s.linestyle) for m, s in styles.items()} == {
        "B": ("base", "-"), "R": ("RL", "--"), "R2": ("distilled", "--"), "X": ("unpaired", "-.")}
    assert styles["B"].colour == styles["R"].colour == styles["R2"].colour != styles["X"].colour  # R2 is B's family
    assert len({s.marker for s in styles.values()}) == 4


def test_every_curve_of_the_paper_config_gets_a_band_from_a_pair_or_from_the_figure_rule():
    """Rule passk_figure's inputs: the pairs' bootstrap intervals, and the per-problem metrics of the curves no pair
    covers (here Qwen2.5-VL-7B-Instruct on the visual benchmarks)."""
    from workflow_helpers import REPO
    from rlvr_eval.planning.config import load_config
    from rlvr_eval.planning.grid import Grid

    grid = Grid(load_config(REPO / "config.yaml"))
    covered = {(p[role], b) for p in grid.pairs for b in grid.pair_benchmarks(p["name"]) for role in ("base", "rl")}
    assert {f"results/analysis/bootstrap/{p['name']}/{b}/passk.csv" for p in grid.pairs
            for b in grid.pair_benchmarks(p["name"])} == set(grid.pair_band_files())
    curves = {(m, b) for b in grid.benchmarks for m in grid.models_on(b)}
    assert set(grid.unpaired_curves()) == curves - covered
    assert ("qwen2.5-vl-7b-instruct", "mathvista") in grid.unpaired_curves()


def test_adding_a_model_outside_the_pair_figures_keeps_their_styles():
    """The pair figures' params (figure_models(every=False)) do not change, so they are not redrawn; the pass@k
    curves give the new model the next colour."""
    from workflow_helpers import demo_config
    from rlvr_eval.planning.config import validate_config
    from rlvr_eval.planning.grid import Grid

    config = demo_config()
    before = Grid(validate_config(config)).figure_models(every=False)
    config["models"]["tiny-other"] = {**config["models"]["tiny-rl"], "role": "rl"}
    grid = Grid(validate_config(config))
    assert grid.figure_models(every=False) == before == ["tiny-base", "tiny-rl"]
    assert grid.figure_models() == ["tiny-base", "tiny-rl", "tiny-other"]
    styles = model_styles(["tiny-base", "tiny-rl", "tiny-other"], grid.pairs, grid.figure_models())
    assert styles["tiny-other"].role == "unpaired" and styles["tiny-other"].colour == FAMILY_COLOURS[1]
