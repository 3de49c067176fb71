r"""Locate a response's final answer cheaply, before any symbolic parsing, and screen pathological answers.

A grader's verdict depends on the response only through the span its extraction picks; the verification driver
grades each distinct (reference, span) once, on the span alone, and never parses a long output whole. Only
string scans run here (`rfind`, brace matching, one bounded regex): linear in the response's length, so a
100 KB degenerate output costs microseconds.

- **math_verify** (`math_verify_span`): with `boxed_match_priority=0` the last `\boxed{…}` decides, so the span is
  `\boxed{<its content>}`. Without one, the span is the response's tail from a line start, reaching back to the
  last "answer" (its anchored patterns outrank the last number) when that lies in the last 2,000 characters.
  Where the span alone yields no parsed value (math-verify would then try earlier candidates), or "answer" lies
  further back, the whole response is graded instead: the span is a shortcut, never a different rule.
- **qwen_math**: the original's extraction is string splitting already (`qwen_math_grader.answer_span`).

`pathological` screens answers whose value no grader can evaluate before the deadline: power towers such as
`5^{5^{5^{5^{5}}}}` and factorials of huge numbers such as `(10^{10})!`. They cannot equal a benchmark
reference of ordinary size, so they are graded wrong at once instead of burning a deadline.
"""

from __future__ import annotations

import math
import re

TAIL_CHARS = 300  # a number-ending response's final answer lies on its last lines
ANSWER_REACH = 2_000  # an "answer" further back than this from the end: grade the whole response

_ANSWER = re.compile("answer", re.IGNORECASE)


def last_boxed(text: str) -> str | None:
    r"""Content of the last `\boxed{…}` (braces balanced; to the end when unbalanced), or None."""
    i = text.rfind("\\boxed{")
    if i < 0:
        return None
    depth, start = 0, i + len("\\boxed")
    for j in range(start, len(text)):
        c = text[j]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1: j]
    return text[start + 1:]


def math_verify_span(response: str) -> str | None:
    """The text to hand math-verify instead of the whole response; None: grade the whole response."""
    if "boxed" in response:
        content = last_boxed(response)
        if content is None or not content.strip():  # "\boxed 5", "\boxed{}": math-verify's own rules decide
            return None
        return f"\\boxed{{{content}}}"
    start = len(response) - TAIL_CHARS
    if start <= 0:
        return response
    tail_answer = None
    for m in _ANSWER.finditer(response, max(0, len(response) - ANSWER_REACH)):
        tail_answer = m.start()
    if tail_answer is None and _ANSWER.search(response[: len(response) - ANSWER_REACH] if len(response) > ANSWER_REACH
                                              else ""):
        return None  # an anchored answer far back may outrank the last number
    if tail_answer is not None:  # from the start of the line holding the last "answer" (at most 200 chars back)
        cut = response.rfind("\n", 0, tail_answer) + 1
        if tail_answer - cut > 200:
            cut = response.find(" ", tail_answer - 200, tail_answer) + 1
        return response[cut:]
    # from the first line start in the tail (no number or $…$ span is split), else the first space
    cut = response.find("\n", start, len(response) - 1)
    if cut < 0:
        cut = response.find(" ", start)
    return response[cut + 1:]


# --- pathological answers -------------------------------------------------------------------------

MAX_EXPONENT = 1e6  # 2^(10^6) has 301,030 digits: sympy still computes it within a second or so
MAX_FACTORIAL = 1e5  # 100,000! has 456,574 digits

_INT = r"\d+(?:\.\d+)?"
_TOWER = re.compile(rf"{_INT}(?:\s*(?:\^|\*\*)\s*[{{(]?\s*{_INT})+")
_FACTORIAL_OF = re.compile(rf"({_INT}(?:\s*(?:\^|\*\*)\s*[{{(]?\s*{_INT}[}})]*)*)\s*[}})]*\s*!")


def _tower_log10(tower: str) -> float:
    """log10 of the power tower `a^{b^{c…}}` (right-associative); inf beyond any float."""
    levels = [float(x) for x in re.findall(_INT, tower)]
    value = levels[-1]
    log10 = math.log10(value) if value > 0 else -math.inf
    for base in reversed(levels[:-1]):
        if base <= 1 or value <= 0:
            value = 1.0 if base == 1 or value <= 0 else 0.0
            log10 = math.log10(value) if value > 0 else -math.inf
            continue
        log10 = value * math.log10(base)
        value = 10.0 ** log10 if log10 < 300 else math.inf
    return log10


def pathological(span: str) -> bool:
    """A power tower whose exponent exceeds MAX_EXPONENT, or a factorial of more than MAX_FACTORIAL."""
    if "^" not in span and "*" not in span and "!" not in span:
        return False
    for m in _TOWER.finditer(span):
        levels = re.findall(_INT, m.group())
        if len(levels) > 1 and _tower_log10("^".join(levels[1:])) > math.log10(MAX_EXPONENT):
            return True
    if "!" in span:
        for m in _FACTORIAL_OF.finditer(span):
            operand = m.group(1)
            if _tower_log10(operand) > math.log10(MAX_FACTORIAL):
                return True
    return False
