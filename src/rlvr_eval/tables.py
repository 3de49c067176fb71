"""pass@k tables with the models side by side (CSV for machines, Markdown for people).

Table schema (`results/tables/passk/{benchmark}.csv`): column `k`, then one column per model with the
mean pass@k over problems; one row per k.
"""

from __future__ import annotations

import pandas as pd

from .io import write_text


def passk_table(per_problem: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """per_problem: model -> per-problem pass@k frame (rlvr_eval.passk schema)."""
    columns = {}
    for model, df in per_problem.items():
        ks = [int(c.split("@")[1]) for c in df.columns if c.startswith("pass@")]
        columns[model] = pd.Series({k: df[f"pass@{k}"].mean() for k in ks})
    table = pd.DataFrame(columns)
    table.index.name = "k"
    return table.reset_index()


def to_markdown(table: pd.DataFrame, title: str | None = None, digits: int = 3) -> str:
    header = "| " + " | ".join(table.columns) + " |"
    sep = "|" + "|".join("---:" for _ in table.columns) + "|"
    rows = []
    for _, r in table.iterrows():
        cells = [str(int(r["k"]))] + ["" if pd.isna(v) else f"{100 * v:.{max(digits - 2, 1)}f}" for v in r.iloc[1:]]
        rows.append("| " + " | ".join(cells) + " |")
    lines = ([f"### {title}", "", "Mean pass@k over problems, in %.", ""] if title else []) + [header, sep, *rows]
    return "\n".join(lines) + "\n"


def write_table(table: pd.DataFrame, csv_path: str, md_path: str, title: str | None = None) -> None:
    write_text(csv_path, table.to_csv(index=False))
    write_text(md_path, to_markdown(table, title))
