"""pass@k curves in the paper's layout: one panel per benchmark, base vs RL for each pair."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from rlvr_eval.io import atomic_path  # noqa: E402

MARKERS = "osD^v<>p*h"


def plot_passk_curves(tables: dict[str, pd.DataFrame], pairs: list[dict], png: str, pdf: str | None = None,
                      note: str = "") -> None:
    """tables: benchmark -> pass@k table (rlvr_eval.metrics.tables schema); `note`: what the run left out."""
    n = len(tables)
    cols = min(n, 3)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False)
    for ax, (benchmark, table) in zip(axes.flat, tables.items()):
        for i, pair in enumerate(pairs):
            for role, style in (("base", "--"), ("rl", "-")):
                model = pair[role]
                if model not in table:
                    continue
                ax.plot(table["k"], 100 * table[model], style, marker=MARKERS[i % len(MARKERS)], markersize=4,
                        color=f"C{i}", label=f"{model} ({'RL' if role == 'rl' and pair.get('kind', 'rl') == 'rl' else role})")
        ax.set_xscale("log", base=2)
        ax.set_title(benchmark)
        ax.set_xlabel("k")
        ax.set_ylabel("pass@k (%)")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    legend = {}  # label -> handle, over every panel (pairs evaluated on some benchmarks only)
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(label, handle)
    handles, labels = list(legend.values()), list(legend)
    fig.legend(handles, labels, loc="lower center", ncol=min(4, max(len(labels), 1)), fontsize=8, frameon=False)
    bottom = 0.06 + 0.03 * (len(labels) // 4)
    if note:
        fig.text(0.01, 0.005, note, fontsize=7, ha="left", va="bottom", wrap=True)
        bottom += 0.04
    fig.tight_layout(rect=(0, bottom, 1, 1))
    for path in filter(None, (png, pdf)):
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=path.rsplit(".", 1)[-1], dpi=150)
    plt.close(fig)
