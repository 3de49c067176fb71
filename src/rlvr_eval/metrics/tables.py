"""pass@k tables with the models side by side (CSV for machines, Markdown for people).

Table schema (`results/tables/passk/{benchmark}.csv`): column `k`, then one column per model with the
mean pass@k over problems as a fraction (0 to 1); one row per k. The Markdown table holds the same fractions, headed
with the unit and with the grader and sampling settings behind them (`settings_heading`). Every model must cover the same problems (else: an error naming
them), so that each column is a mean over the same set.

Sample counts (`results/tables/samples/{benchmark}.csv`), one row per model: problems, samples, capped
(samples whose token budget the model's context cut below max_new_tokens) and prompt_too_long (samples never
generated because the prompt alone fills the context; counted as wrong). The Markdown table repeats them.
"""

from __future__ import annotations

import pandas as pd

from rlvr_eval.io import write_text

SAMPLE_COUNT_COLUMNS = ["model", "problems", "samples", "capped", "prompt_too_long"]


class TableError(ValueError):
    pass


def check_same_problems(per_problem: dict[str, pd.DataFrame]) -> None:
    sets = {m: set(df["problem_id"].astype(str)) for m, df in per_problem.items()}
    first, reference = next(iter(sets.items()), (None, set()))
    for model, ids in sets.items():
        if ids != reference:
            raise TableError(f"models {first} and {model} cover different problems ({len(reference - ids)} only in "
                             f"{first}, e.g. {sorted(reference - ids)[:3]}; {len(ids - reference)} only in {model}, "
                             f"e.g. {sorted(ids - reference)[:3]}): their means would not be comparable")


def passk_table(per_problem: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """per_problem: model -> per-problem pass@k frame (rlvr_eval.metrics.passk schema)."""
    check_same_problems(per_problem)
    columns = {}
    for model, df in per_problem.items():
        ks = [int(c.split("@")[1]) for c in df.columns if c.startswith("pass@")]
        columns[model] = pd.Series({k: df[f"pass@{k}"].mean() for k in ks})
    table = pd.DataFrame(columns)
    table.index.name = "k"
    return table.reset_index()


def sample_counts(per_problem: dict[str, pd.DataFrame]) -> pd.DataFrame:
    rows = [(model, len(df), int(df["n"].sum()), int(df.get("capped", pd.Series(dtype=int)).sum()),
             int(df.get("prompt_too_long", pd.Series(dtype=int)).sum())) for model, df in per_problem.items()]
    return pd.DataFrame(rows, columns=SAMPLE_COUNT_COLUMNS)


def settings_heading(entries: list[dict], with_grader: bool = True) -> str:
    """'grader G; n = 8, temperature 0.6, top-p 0.95, max 512 new tokens' for the entries behind one table
    ({grader, n, temperature, top_p, max_new_tokens} each; settings that differ between entries are listed in turn).
    with_grader=False: the sampling settings only (a table comparing graders names its own)."""
    graders = sorted({e["grader"] for e in entries})
    settings = sorted({(e["n"], e["temperature"], e["top_p"], e["max_new_tokens"]) for e in entries})
    runs = "; ".join(f"n = {n}, temperature {t}, top-p {p}, max {m} new tokens" for n, t, p, m in settings)
    if not with_grader:
        return runs
    return ("grader " if len(graders) == 1 else "graders ") + ", ".join(graders) + "; " + runs


def to_markdown(table: pd.DataFrame, title: str | None = None, digits: int = 3, counts: pd.DataFrame | None = None,
                settings: list[dict] | None = None) -> str:
    """The pass@k table in Markdown, in the CSV's unit (a fraction of 1); `settings`: summary entries behind it."""
    header = "| " + " | ".join(table.columns) + " |"
    sep = "|" + "|".join("---:" for _ in table.columns) + "|"
    rows = []
    for _, r in table.iterrows():
        cells = [str(int(r["k"]))] + ["" if pd.isna(v) else f"{v:.{digits}f}" for v in r.iloc[1:]]
        rows.append("| " + " | ".join(cells) + " |")
    heading = f"### {title}" + (f" ({settings_heading(settings)})" if settings else "")
    lines = ([heading, "", "Mean pass@k over problems, as a fraction (0 to 1).", ""] if title else []) + [header, sep, *rows]
    if counts is not None:
        lines += ["", "Samples per model: capped = the token budget was cut below max_new_tokens by the model's "
                  "context; prompt_too_long = never generated (the prompt fills the context), counted as wrong.", "",
                  "| " + " | ".join(SAMPLE_COUNT_COLUMNS) + " |", "|---|" + "---:|" * (len(SAMPLE_COUNT_COLUMNS) - 1)]
        lines += ["| " + " | ".join(str(v) for v in r) + " |" for r in counts[SAMPLE_COUNT_COLUMNS].itertuples(index=False)]
    return "\n".join(lines) + "\n"


def with_note(markdown: str, note: str) -> str:
    """A Markdown table followed by the run's note on what it left out (planning.left_out), if any."""
    return f"{markdown.rstrip()}\n\n{note}\n" if note else markdown


def write_table(table: pd.DataFrame, csv_path: str, md_path: str, title: str | None = None,
                counts: pd.DataFrame | None = None, counts_path: str | None = None, note: str = "",
                settings: list[dict] | None = None) -> None:
    write_text(csv_path, table.to_csv(index=False))
    write_text(md_path, with_note(to_markdown(table, title, counts=counts, settings=settings), note))
    if counts_path is not None and counts is not None:
        write_text(counts_path, counts.to_csv(index=False))
