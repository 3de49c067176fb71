"""The guessing check's files (analysis.review): the review sheets, where the researcher saves the judgements
exported from one, and the judgements' tables, planned only for the files present when Snakemake plans."""

from __future__ import annotations

import os

from rlvr_eval.data.benchmarks import CODE_BENCHMARKS


def reviewed(grid) -> list[tuple[str, str]]:
    """(model, benchmark) of every review sheet: the reviewed models (analysis.review.models; none listed: all) on
    each of their answer benchmarks; none when analysis.review is not enabled."""
    review = grid.analysis.get("review", {})
    if not review.get("enabled", False):
        return []
    return [(m, b) for m in review.get("models") or grid.models for b in grid.benchmarks_of(m) if b not in CODE_BENCHMARKS]


def judgements_file(grid, model: str, benchmark: str) -> str:
    """Where the researcher saves the judgements exported from a review sheet (analysis.review.judgements_dir)."""
    directory = grid.analysis.get("review", {}).get("judgements_dir", "reviews")
    return f"{directory.rstrip('/')}/{model}/{benchmark}.csv"


def review_tables(grid) -> list[str]:
    """A table per review sheet whose judgements file exists now: Snakemake plans from the files present at its
    start, so a file saved later is tabulated by the next run, and an unreviewed sheet fails nothing."""
    return [f"results/tables/review/{m}/{b}.{ext}" for m, b in reviewed(grid)
            if os.path.isfile(judgements_file(grid, m, b)) for ext in ("csv", "md")]


def review_targets(grid) -> list[str]:
    """Each review sheet with the list of the responses it shows, then the tables of the judgements present."""
    sheets = [f"results/review/{m}/{b}.{ext}" for m, b in reviewed(grid) for ext in ("html", "responses.csv")]
    return sheets + review_tables(grid)
