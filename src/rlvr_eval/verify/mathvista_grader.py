r"""MathVista's answer rule, written from its published conventions, on the response's last `\boxed{}`.

MathVista's free-form answers are of three types (`answer_type`; the reference's own form says which):

- integer ("8"): the boxed value must be a number equal to that integer ("8", "8.0", "\frac{16}{2}"; not "8.4");
- float ("1.2", `precision` 1): the boxed value is rounded to the reference's number of decimals, which is the
  item's `precision` in every free-form testmini item (tests/test_visual_grading.py), so 1.22 counts for 1.2;
- list ("[2014, 2016]"): element-wise, each element as a number; brackets optional in the response.

The boxed content is read as a plain number first (thousands separators, `$`, `\%` and a trailing `\text{unit}`
dropped), else through math-verify's LaTeX parser (fractions, `\sqrt`), evaluated numerically.
"""

from __future__ import annotations

import math
import re

from rlvr_eval.data.benchmarks import last_boxed_content

_INT = re.compile(r"^-?\d+$")
_FLOAT = re.compile(r"^-?\d*\.(\d+)$")
_UNIT = re.compile(r"\\(?:text|mathrm|mbox)\{[^{}]*\}")
_DROP = re.compile(r"\\[,;!]|\\%|%|\$|\\left|\\right|\^\{?\\circ\}?|°")


def number(text: str) -> float | None:
    """The numeric value of an answer string, or None."""
    s = _DROP.sub("", _UNIT.sub("", text)).replace(",", "").replace(" ", "").strip()
    try:
        return float(s)
    except ValueError:
        pass
    if not s:
        return None
    from math_verify import LatexExtractionConfig, parse

    parsed = parse(f"${s}$", extraction_config=(LatexExtractionConfig(),), parsing_timeout=None)
    for value in parsed:
        try:
            result = float(value.evalf())
        except (AttributeError, TypeError, ValueError):
            continue
        return result if math.isfinite(result) else None
    return None


def _elements(text: str) -> list[str]:
    inner = _DROP.sub("", text).strip()
    if inner[:1] in "[(" and inner[-1:] in "])":
        inner = inner[1:-1]
    return [e.strip() for e in inner.split(",")] if inner.strip() else []


def matches(answer: str, reference: str) -> bool:
    """MathVista's comparison of an extracted answer with a free-form reference (rules above)."""
    reference = reference.strip()
    if reference.startswith("["):
        got, want = _elements(answer), _elements(reference)
        return len(got) == len(want) and all(matches(g, w) for g, w in zip(got, want))
    value = number(answer)
    if value is None:
        return False
    if _INT.match(reference):
        return value.is_integer() and int(value) == int(reference)
    if m := _FLOAT.match(reference):
        precision = len(m.group(1))
        return round(value, precision) == round(float(reference), precision)
    raise ValueError(f"not a free-form MathVista reference (integer, float or list): {reference!r}")


def grade(response: str, reference: str, benchmark: str = "") -> tuple[str, str | None]:
    boxed = last_boxed_content(response)
    if boxed is None or not boxed.strip():
        return "no_answer", None
    return ("correct" if matches(boxed, reference) else "wrong"), boxed


def locate_span(response: str, reference: str, benchmark: str = "") -> None:
    """None: the fast path (verify.span_driver) grades the whole response, whose last `\\boxed{}` `grade` finds in
    one scan; no shorter span would save work."""
    return None


def shown_answer(span: str, benchmark: str = "") -> str:
    """What the verdict shows as `extracted` for a response screened as pathological."""
    return last_boxed_content(span) or span


def warmup() -> None:
    """Pay the lazy costs before the first deadline (verify.deadline_pool calls it once per worker): importing
    math-verify, which reads answers that are not plain numbers. Changes no verdict."""
    grade("$\\boxed{\\frac{1}{2}}$", "0.5")
