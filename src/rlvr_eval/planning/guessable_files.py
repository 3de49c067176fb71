"""The filtered benchmark's files (analysis.guessable_filter, the paper's Fig. 12): each listed pair's pass@k on
each listed benchmark without the problems the direct-answer model guesses (rule guessable_filter)."""

from __future__ import annotations

MAX_RATE = 0.05  # the paper's: answered directly in under 5 % of the samples, but not never


def guessable_filter(grid) -> dict | None:
    """analysis.guessable_filter with its defaults, or None where it is not configured (or left out)."""
    given = grid.analysis.get("guessable_filter")
    return None if given is None else {"max_rate": MAX_RATE, **given}


def guessable_filter_files(grid) -> list[str]:
    f = guessable_filter(grid)
    if f is None:
        return []
    return [f"results/analysis/guessable/{p}/{b}.{ext}" for p in f["pairs"] for b in f["benchmarks"]
            for ext in ("csv", "json")]
