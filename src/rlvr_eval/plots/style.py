"""The one plotting style of every figure: colour per model family, line style per role, a marker per model,
pass@k axes (log2 k, 0-100 %) and the writer of <prefix>.png/.pdf.

A family is a base model and every model paired with it (its RL or distilled versions): they share a colour.
The role sets the line style, the same in every figure: base solid, RL (or distilled) dashed, a model in no
pair dash-dotted. Each model has its own marker, so the figures also read in grayscale; the coverage groups
are grays, each hatched differently.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import FixedLocator, NullLocator  # noqa: E402

from rlvr_eval.io import atomic_path  # noqa: E402

# colour-blind-safe first (Okabe-Ito), then tab10 tones: 12 families before a colour repeats
FAMILY_COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#8C564B", "#7F7F7F",
                  "#9467BD", "#BCBD22", "#17BECF", "#D62728"]
ROLE_LINESTYLES = {"base": "-", "rl": "--", "unpaired": "-."}
ROLE_HATCHES = {"base": "", "rl": "///", "unpaired": "..."}  # bars and boxes: the role's line style has no fill
MARKERS = "osD^v<>pXP*h"
GROUP_STYLE = {  # coverage groups (colour, hatch): light (solved by both) to white (neither), each hatched differently
    "both": ("#d9d9d9", ""), "base_only": ("#969696", "///"), "rl_only": ("#525252", "xxx"), "neither": ("#ffffff", "...")}
GROUP_LABELS = {"both": "both", "base_only": "base only", "rl_only": "RL only", "neither": "neither"}
BAND_ALPHA = 0.18
DPI = 150


@dataclass(frozen=True)
class ModelStyle:
    model: str
    family: str  # the base model whose colour this model takes
    role: str  # "base", "rl" or "unpaired"
    role_label: str  # what the legend says: base, RL, distilled, unpaired
    colour: str
    linestyle: str
    marker: str
    hatch: str

    @property
    def label(self) -> str:
        return f"{self.model} ({self.role_label})"

    def line(self) -> dict:
        """Keyword arguments of Axes.plot for this model's line."""
        return dict(color=self.colour, linestyle=self.linestyle, marker=self.marker, markersize=4, linewidth=1.4,
                    label=self.label)


def model_styles(models: list[str], pairs: list[dict], every_model: list[str] | None = None) -> dict[str, ModelStyle]:
    """model -> its style, for `models`, given the config's pairs (name, base, rl, optional kind).

    Colours and markers follow the order of the pairs' models, then `every_model` (the config's models), then
    `models`: figures given the same pairs and every_model draw each model alike, whichever models they show. A
    model in several pairs keeps its first role; a model in no pair is a family of its own."""
    family: dict[str, str] = {}
    role: dict[str, tuple[str, str]] = {}
    for pair in pairs:
        base_family = family.setdefault(pair["base"], pair["base"])  # an RL model may be the base of another pair
        family.setdefault(pair["rl"], base_family)
        role.setdefault(pair["base"], ("base", "base"))
        kind = pair.get("kind", "rl")
        role.setdefault(pair["rl"], ("rl", "RL" if kind == "rl" else kind))
    order = list(dict.fromkeys([m for p in pairs for m in (p["base"], p["rl"])] + list(every_model or []) + models))
    for model in order:
        family.setdefault(model, model)
        role.setdefault(model, ("unpaired", "unpaired"))
    families = list(dict.fromkeys(family[m] for m in order))
    styles = {}
    for model in models:
        r, r_label = role[model]
        styles[model] = ModelStyle(model, family[model], r, r_label,
                                   FAMILY_COLOURS[families.index(family[model]) % len(FAMILY_COLOURS)],
                                   ROLE_LINESTYLES[r], MARKERS[order.index(model) % len(MARKERS)], ROLE_HATCHES[r])
    return styles


def draw_band(ax, style: ModelStyle, ks, low, high) -> None:
    """A model's bootstrap band (low, high: fractions) in its colour; its edges in the role's line style, so that
    the bands of a pair, which share the colour, stay apart."""
    ax.fill_between(ks, 100 * np.asarray(low), 100 * np.asarray(high),
                    facecolor=mcolors.to_rgba(style.colour, BAND_ALPHA), edgecolor=mcolors.to_rgba(style.colour, 0.6), linestyle=style.linestyle, linewidth=0.7,
                    gid=f"band {style.model}")


def passk_axes(ax, ks, title: str | None = None) -> None:
    """log2 k axis with a tick at every power of 2 up to the largest k, pass@k in % from 0 to 100."""
    largest = max(int(k) for k in ks) if len(ks) else 1
    ticks = [2 ** i for i in range(largest.bit_length())]
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticks(ticks, [str(t) for t in ticks], fontsize=7)
    ax.set_xlim(ticks[0] / 1.15, max(ticks[-1], largest) * 1.15)
    ax.set_ylim(0, 100)
    ax.set_yticks(range(0, 101, 20))
    ax.set_xlabel("k")
    ax.set_ylabel("pass@k (%)")
    ax.grid(alpha=0.3)
    if title is not None:
        ax.set_title(title, fontsize=10)


def panels(count: int, width: float = 3.6, height: float = 2.9, max_cols: int = 3):
    """A grid of `count` panels, at most `max_cols` wide; the spare axes of the last row are hidden."""
    cols = max(1, min(count, max_cols))
    rows = max(1, (count + cols - 1) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in list(axes.flat)[count:]:
        ax.axis("off")
    return fig, list(axes.flat)[:count]


def figure_legend(fig, handles_labels: dict, ncol: int = 4, note: str = "") -> None:
    """One legend above the panels (label -> handle, in order) and, below them, `note` in the figure itself."""
    if handles_labels:
        fig.legend(list(handles_labels.values()), list(handles_labels), loc="lower center", bbox_to_anchor=(0.5, 1.0),
                   ncol=min(ncol, len(handles_labels)), fontsize=8, frameon=False)
    if note:
        fig.text(0.01, 0.0, note, fontsize=7, ha="left", va="top", wrap=True)


def collect_legend(axes) -> dict:
    """label -> handle over every panel (a model may be on some benchmarks only)."""
    legend = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(label, handle)
    return legend


def save_figure(fig, out_prefix: str | Path) -> list[Path]:
    """Write <prefix>.png and <prefix>.pdf (atomically), close the figure, return the paths."""
    paths = [Path(f"{out_prefix}.png"), Path(f"{out_prefix}.pdf")]
    save_as(fig, paths)
    return paths


def save_as(fig, paths) -> None:
    """Write the figure to each path (format from the suffix, atomically) and close it."""
    for path in map(Path, paths):
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=path.suffix[1:], dpi=DPI, bbox_inches="tight")
    plt.close(fig)
