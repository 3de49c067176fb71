r"""Answer grading with Hugging Face's math-verify library (parse + verify).

Extraction (math-verify's own regexes, LaTeX and plain expressions): the last `\boxed{…}` first
(boxed_match_priority=0, so a boxed answer beats any "answer:" phrase); then "final answer is",
"The answer is …" and the DAPO template's `Answer: …` line; then the last LaTeX span or number
in the response (which is how GSM8K-style `A: 18` endings are read).

The reference is a plain string ("18", "\frac{1}{2}", "\left( 3, \frac{\pi}{2} \right)"): it is
wrapped in `$…$` so that math-verify reads all of it as one LaTeX expression (unwrapped, the
tuple above would be read as its first number). A reference that math-verify cannot read at all
raises ValueError, which the driver records as status "error": it is a benchmark problem, not a
wrong answer.

math-verify reads e-notation as Euler's number (`3.89e-10` is 3.89e - 10), in references and responses alike.
References are rewritten before parsing (`3.89\times 10^{-10}`); an answer that math-verify's comparison rejects
is still correct when its extracted text equals the reference's text, or when it is a plain number in
e-notation equal to the reference's number (within REL_TOL when the reference is a plain number too; otherwise
compared by math-verify as the same rewrite). Those checks only ever turn "wrong" into "correct".

math-verify's own timeouts use signal.alarm; they are disabled (parsing_timeout=None,
timeout_seconds=None) because the driver runs this in worker processes and kills a worker at the
deadline, which also stops hangs that an alarm cannot interrupt.
"""

from __future__ import annotations

import logging
import math
import re
from functools import lru_cache

from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

RESPONSE_EXTRACTION = (LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig())
REFERENCE_EXTRACTION = (LatexExtractionConfig(), ExprExtractionConfig())

_UNESCAPED_DOLLAR = re.compile(r"(?<!\\)\$")
# math-verify reads "1e-3" as e - 3 (Euler's number); a reference in this form is rewritten.
_SCIENTIFIC = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+))[eE]([-+]?\d+)\s*$")
_PLAIN_NUMBER = re.compile(r"^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$")
# math-verify rounds floats to 6 decimals (float_rounding=6); for e-notation, whose point is the magnitude,
# the same 6 digits are taken relative to the number, so that 1e-10 is not equal to 5e-10.
REL_TOL = 1e-6


class _DropDisabledTimeoutWarning(logging.Filter):
    # math-verify warns once per process that its timeouts are off; here that is deliberate.
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Timeout is disabled")


for _name in ("math_verify.parser", "math_verify.grader"):
    logging.getLogger(_name).addFilter(_DropDisabledTimeoutWarning())


@lru_cache(maxsize=4096)  # every sample of a problem shares its reference
def parse_reference(reference: str) -> list:
    """math-verify's parse of a reference answer: [sympy value, normalised string] or [string]."""
    # Stray "$" inside references (Minerva, OlympiadBench: "221,$8") would split the $…$ wrapper.
    inner = _UNESCAPED_DOLLAR.sub("", reference).strip()
    if m := _SCIENTIFIC.match(inner):
        inner = f"{m.group(1)}\\times 10^{{{int(m.group(2))}}}"
    for candidate in (f"${inner}$", f"\\boxed{{{inner}}}", reference):
        parsed = parse(candidate, extraction_config=REFERENCE_EXTRACTION, parsing_timeout=None, raise_on_error=True)
        if parsed:
            return parsed
    raise ValueError(f"math-verify cannot read the reference answer {reference!r}")


def extract(response: str) -> list:
    """math-verify's parse of the response's final answer; [] when it states none and has no number."""
    return parse(response, extraction_config=RESPONSE_EXTRACTION, parsing_timeout=None, raise_on_error=True)


def grade(response: str, reference: str, benchmark: str = "") -> tuple[str, str | None]:
    return grade_parsed(extract(response), reference)


def grade_parsed(pred: list, reference: str) -> tuple[str, str | None]:
    """The verdict on an extracted answer (`extract`'s result) against the reference."""
    gold = parse_reference(reference)
    if not pred:
        return "no_answer", None
    # parse() appends the matched text as a string; report that rather than str(sympy value),
    # which is slow (even unbounded) for huge expressions.
    text = next((p for p in reversed(pred) if isinstance(p, str)), None)
    extracted = str(pred[0]) if text is None else text
    if verify(gold, pred, timeout_seconds=None):
        return "correct", extracted
    if text is not None and (_same_text(text, reference) or _same_e_notation_number(text, reference, gold)):
        return "correct", extracted
    return "wrong", extracted


def _same_text(answer: str, reference: str) -> bool:
    """The answer as math-verify extracted it is the reference, character for character (spaces and $ aside)."""
    return answer.strip() == _UNESCAPED_DOLLAR.sub("", reference).strip() != ""


def _same_e_notation_number(answer: str, reference: str, gold: list) -> bool:
    """An answer in e-notation (which math-verify misreads) equal to the reference as a number."""
    if not _SCIENTIFIC.match(answer):
        return False
    if _PLAIN_NUMBER.match(reference):
        return math.isclose(float(answer), float(reference), rel_tol=REL_TOL)
    # a reference in another notation (3.89 \times 10^{-10}): read the answer as e-notation references are read
    return verify(gold, parse_reference(answer), timeout_seconds=None)


# --- the fast path's interface (rlvr_eval.verify.span_driver reaches it through verify.graders.GRADERS) ---------

def locate_span(response: str, reference: str, benchmark: str = "") -> str | None:
    """The answer span math-verify would extract from (string scans only), or None: grade the whole response."""
    from rlvr_eval.verify.answer_spans import math_verify_span

    return math_verify_span(response)


def shown_answer(span: str, benchmark: str = "") -> str:
    """What the verdict shows as `extracted` for a span screened as pathological."""
    from rlvr_eval.verify.answer_spans import last_boxed

    return last_boxed(span) or span


def grade_span(span: str, reference: str, benchmark: str = "") -> tuple[str, str | None] | None:
    """`grade` from the span alone; None when math-verify would try earlier candidates of the whole response."""
    pred = extract(span)
    if not any(not isinstance(p, str) for p in pred):
        return None
    return grade_parsed(pred, reference)


def warmup() -> None:
    """Pay the lazy costs before the first deadline (verify.deadline_pool calls it once per worker): math-verify's
    first parse (latex2sympy2_extended's grammar) and sympy's first comparisons. Changes no verdict."""
    grade("$\\boxed{\\frac{x^2-1}{x-1}}$", "x+1")
    grade("$\\boxed{\\sin^2 x+\\cos^2 x}$", "1")
