"""Why the paper's grader (rlvr_eval.verify.qwen_math_grader) and another one disagree: the rule of the original most
likely behind each difference, for the grader-agreement report."""

from __future__ import annotations

import re

from rlvr_eval.verify.qwen_math_grader import (_is_choices, _number, normalize_reference, numbers_close, parse_math,
                                              strip_string)

CAUSES = ("multiple choice", "and", "left side", "tolerance", "percent", "list", "case", "units", "mixed number",
          "parse failure", "other")


def _unbracketed_list(s: str) -> bool:
    """A comma outside every bracket: "1, 2" or "\\frac{1}{2},3", not "(1,2)"."""
    depth = 0
    for ch in s:
        depth += ch in "([{"
        depth -= ch in ")]}"
        if ch == "," and depth == 0:
            return True
    return False


def disagreement_cause(prediction: str | None, reference: str, other_extracted: str | None = None,
                       benchmark: str = "") -> str:
    """The rule of the original most likely behind a verdict that another grader does not share.

    `prediction` is this grader's extracted (normalized) answer, `reference` the raw reference,
    `other_extracted` the other grader's extracted answer. One of CAUSES, checked in that order.
    """
    prediction = prediction or ""
    normalized = normalize_reference(reference, benchmark)
    raw = f"{reference} {other_extracted or ''}"
    if _is_choices(normalized):
        return "multiple choice"
    if re.search(r"\band\b", raw):
        return "and"
    if "=" in prediction or "=" in normalized or "=" in raw:
        return "left side"
    pred_number, ref_number = _number(prediction), _number(normalized)
    if pred_number is not None and ref_number is not None:
        if pred_number != ref_number and numbers_close(pred_number, ref_number):
            return "tolerance"
        if any(numbers_close(pred_number, ref_number * f) for f in (0.01, 100)):
            return "percent"
    if _unbracketed_list(prediction) or _unbracketed_list(normalized):
        return "list"
    if prediction != normalized and prediction.lower() == normalized.lower() or (other_extracted and other_extracted.lower() == normalized.lower()
                                                    and other_extracted != normalized):
        return "case"
    if strip_string(reference, keep_units=True) != strip_string(reference) or (
            other_extracted and strip_string(other_extracted, keep_units=True) != strip_string(other_extracted)):
        return "units"
    if re.match(r"^-?\d+\\frac", normalized):  # 2\frac58 is read as 2 * 5/8, not 2 + 5/8
        return "mixed number"
    if isinstance(parse_math(prediction), str) or isinstance(parse_math(normalized), str):
        return "parse failure"
    return "other"
