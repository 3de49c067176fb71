"""Worker side of span grading: grade an answer span (rlvr_eval.verify.answer_spans) or a whole response.

`grade_item(grader, mode, text, reference, benchmark)` runs in the deadline pool's workers
(rlvr_eval.verify.deadline_pool): mode "span" grades the located answer span and answers ("unsure", None) when the
span alone cannot decide (the driver then grades the whole response); mode "full" is the grader itself.
References are parsed once per worker (math_verify_grader.parse_reference is cached). `warmup(graders)` runs once
per worker before its first item (the pool calls it), so that no item pays a grader's lazy imports.
"""

from __future__ import annotations

from rlvr_eval.verify.graders import get_grader, grader_module

UNSURE = "unsure"


def grade_item(grader: str, mode: str, text: str, reference: str, benchmark: str) -> tuple[str, str | None]:
    if mode == "full":
        return get_grader(grader)(text, reference, benchmark)
    if mode != "span":
        raise ValueError(f"unknown grading mode {mode!r}")
    verdict = grader_module(grader).grade_span(text, reference, benchmark)
    return (UNSURE, None) if verdict is None else verdict


def warmup(graders: tuple[str, ...] = ()) -> None:
    """Each named grader's own `warmup`, where its module has one."""
    for grader in graders:
        hook = getattr(grader_module(grader), "warmup", None)
        if hook is not None:
            hook()
