"""The grader and sampling settings behind a results table, for its Markdown heading
(rlvr_eval.metrics.tables.settings_heading): one entry per (model, benchmark) cell the table holds."""

from __future__ import annotations


def table_settings(grid, cells: list[tuple[str, str]]) -> list[dict]:
    """grid: planning.grid.Grid; cells: (model, benchmark) -> {model, benchmark, grader, n, temperature, top_p,
    max_new_tokens} each (Grid.summary_entries without the metrics file)."""
    cells = set(map(tuple, cells))
    return [{k: v for k, v in e.items() if k != "file"} for e in grid.summary_entries()
            if (e["model"], e["benchmark"]) in cells]
