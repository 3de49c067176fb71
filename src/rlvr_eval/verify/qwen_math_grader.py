r"""Answer grading by the Qwen2.5-Math evaluation rules, which the paper used for its math results.

Written from a description of those rules, not from their code:

* Extraction, first rule that applies: Minerva's "final answer is $…$. I hope" form; the last
  `\boxed{…}`; an explicit phrase ("The answer is …", "final answer is …", or the DAPO template's
  `Answer: …` line, whichever comes last in the response); otherwise the last number.
* Normalization of both sides (`normalize_answer`): `\text{}` wrappers and trailing units, `\left`/
  `\right`, `$`, percent and degree signs, thousands separators, `\dfrac`/`\tfrac`, spaces, trailing
  periods, a leading "x =".
* Equivalence (`answers_equal`): case-insensitive strings; numbers within relative tolerance 1e-4
  of the reference, the reference / 100 or the reference × 100; tuples, intervals and matrices
  element by element (bracket types are ignored, as in the original); equations by right-hand side
  or by difference; otherwise sympy: equal, difference simplifies to 0, or numerically close.

The grader sets no timeouts of its own: sympy can run away on adversarial input, and the
verification driver kills a worker after the deadline (3 s in the paper) and records "timeout".
"""

from __future__ import annotations

import math
import re

from ..benchmarks import last_boxed_content

REL_TOL = 1e-4

# --- extraction ---------------------------------------------------------------------------------

_MINERVA_OPEN, _MINERVA_CLOSE = "final answer is $", "$. I hope"
_ANSWER_IS = re.compile(r"(?:\bthe|\bfinal) answer is\b[ \t]*:?[ \t]*", re.IGNORECASE)
_ANSWER_LINE = re.compile(r"^[ \t>#*_]*(?:final[ \t]+)?answer[ \t*_]*:[ \t*_]*(.*?)[ \t]*$", re.IGNORECASE | re.MULTILINE)
_NUMBER = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?|-?\.\d+")


def _phrase_answer(rest: str) -> str | None:
    """The answer at the start of the text following "The answer is": its first $…$ span if the
    text opens with one, else the rest of the line up to the end of the sentence."""
    rest = rest.lstrip()
    if rest.startswith("$"):
        m = re.match(r"\$\$?(.+?)\$", rest, re.DOTALL)
        if m:
            return m.group(1).strip()
    line = rest.split("\n", 1)[0]
    line = re.split(r"\.(?:\s|$)", line, maxsplit=1)[0]  # a sentence ends at ". ", not in "3.5"
    return line.strip() or None


def _minerva_answer(response: str) -> str | None:
    """The span of the last "final answer is $…$. I hope", opened at the latest opener before the
    closer (an earlier "final answer is $" in the reasoning must not swallow it)."""
    close = response.rfind(_MINERVA_CLOSE)
    if close < 0:
        return None
    open_ = response.rfind(_MINERVA_OPEN, 0, close)
    if open_ < 0:
        return None
    return response[open_ + len(_MINERVA_OPEN): close].strip() or None


def extract_answer(response: str) -> str | None:
    """The final answer in `response`, or None when it states none and contains no number."""
    minerva = _minerva_answer(response)
    if minerva is not None:
        return (last_boxed_content(minerva) or minerva).strip()
    boxed = last_boxed_content(response)
    if boxed is not None:
        return boxed.strip()
    # "The answer is" and the DAPO "Answer:" line are equally explicit: the later one is final.
    phrase = next(((m.end(), answer) for m in reversed(list(_ANSWER_IS.finditer(response)))
                   if (answer := _phrase_answer(response[m.end():])) is not None), None)
    line = next(((m.start(1), m.group(1)) for m in reversed(list(_ANSWER_LINE.finditer(response))) if m.group(1)), None)
    candidates = [c for c in (phrase, line) if c is not None]
    if candidates:
        return max(candidates)[1]
    numbers = _NUMBER.findall(response)
    return numbers[-1].replace(",", "") if numbers else None


# --- normalization ------------------------------------------------------------------------------

_TEXT_COMMANDS = r"\\(?:text|textbf|textit|mbox|mathrm|operatorname)"
_TRAILING_TEXT = re.compile(r"^(.*?\S)\s*" + _TEXT_COMMANDS + r"\{[^{}]*\}(?:\s*\^\{?[23]\}?)?$", re.DOTALL)
_TEXT_WRAPPER = re.compile(_TEXT_COMMANDS + r"\s*\{([^{}]*)\}")
# A plain-number quantity followed by words, e.g. "5 cm", "12 square feet", "42 apples". Words of one
# letter are kept: "2 x" is more likely a product than a unit.
_NUMERIC_QUANTITY = r"[-+]?(?:\d[\d,]*(?:\.\d*)?|\.\d+)(?:\s*\\pi)?"
_TRAILING_UNIT_WORDS = re.compile(r"^(" + _NUMERIC_QUANTITY + r")\s+[a-zA-Z]{2,20}(?:\s+[a-zA-Z]{2,20}){0,2}(?:\^\{?[23]\}?)?$")
_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_SINGLE_VARIABLE_LHS = re.compile(r"^\s*(?:[a-zA-Z]|\\[a-zA-Z]+)(?:_\{?[a-zA-Z0-9]+\}?)?\s*=(?!=)")
_SINGLE_VARIABLE_IN = re.compile(r"^\s*[a-zA-Z](?:_\{?[a-zA-Z0-9]+\}?)?\s*\\in(?![a-zA-Z])\s*")


def _fix_fracs(s: str) -> str:
    r"""`\frac12` -> `\frac{1}{2}`, `\frac1{x}` -> `\frac{1}{x}`, `\frac{1}2` -> `\frac{1}{2}`."""
    s = re.sub(r"\\frac\s*([0-9a-zA-Z])\s*([0-9a-zA-Z])", r"\\frac{\1}{\2}", s)
    s = re.sub(r"\\frac\s*([0-9a-zA-Z])\s*\{", r"\\frac{\1}{", s)
    return re.sub(r"\\frac\s*(\{[^{}]*\})\s*([0-9a-zA-Z])", r"\\frac\1{\2}", s)


def normalize_answer(answer: str) -> str:
    """Canonical surface form of an answer (used on the extracted answer and the reference alike)."""
    s = str(answer).strip()
    s = s.replace("\n", " ").replace("\\$", "").replace("$", "")
    s = re.sub(r"(?<!\\)\\[!,;: ]|~", " ", s)  # LaTeX spacing commands (not the row break "\\\\")
    s = s.replace("{,}", ",")  # "1{,}000"
    s = re.sub(r"\\[dt]frac", r"\\frac", s)
    s = re.sub(r"\\(?:left|right|big|Big|bigg|Bigg)(?![a-zA-Z])", "", s)
    s = re.sub(r"\^\s*\{?\s*\\circ\s*\}?|°|\\degree(?![a-zA-Z])", "", s)
    s = s.replace("\\%", "").replace("%", "")  # percentages are matched numerically (reference × 100)
    s = re.sub(r"\\(?:displaystyle|mathbf|boldsymbol)(?![a-zA-Z])", "", s)
    s = re.sub(_TEXT_COMMANDS + r"\{\s*and\s*\}", ",", s)  # "2 \text{ and } 3" lists two answers
    while m := _TRAILING_TEXT.match(s):  # "5 \text{ cm}": a trailing text block after a value is a unit
        s = m.group(1)
    while m := _TEXT_WRAPPER.search(s):
        s = s[: m.start()] + m.group(1) + s[m.end():]
    s = s.strip()
    if m := _TRAILING_UNIT_WORDS.match(s):
        s = m.group(1)
    s = s.strip().rstrip(".").strip()
    if _THOUSANDS.match(s):
        s = s.replace(",", "")
    if s.count("=") == 1 and _SINGLE_VARIABLE_LHS.match(s):
        s = s.split("=", 1)[1]
    s = _SINGLE_VARIABLE_IN.sub("", s)  # "x \in [-2, 7]"
    s = re.sub(r"\\sqrt\s*([0-9a-zA-Z])", r"\\sqrt{\1}", s)
    s = _fix_fracs(s)
    # Drop whitespace, except one space after a control word followed by a letter ("\pi r").
    s = re.sub(r"(\\[a-zA-Z]+)\s+(?=[a-zA-Z])", "\\1\x00", s)
    s = re.sub(r"\s+", "", s).replace("\x00", " ")
    s = re.sub(r"(?<![\d}])\.(\d)", r"0.\1", s)  # ".5" -> "0.5"
    return s.rstrip(".")


# --- equivalence --------------------------------------------------------------------------------

_PLAIN_NUMBER = re.compile(r"^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$")
_BRACKETED = re.compile(r"^(?:[(\[].*[)\]]|\\\{.*\\\})$", re.DOTALL)
_MATRIX = re.compile(r"^\\begin\{([pbvB]?matrix|array)\}(?:\{[^{}]*\})?(.*)\\end\{\1\}$", re.DOTALL)
_SIMPLE_LHS = re.compile(r"^(?:[a-zA-Z]|\\[a-zA-Z]+)(?:_\{?[a-zA-Z0-9]+\}?)?(?:\([a-zA-Z]\))?$")


def _plain_number(s: str) -> float | None:
    return float(s) if _PLAIN_NUMBER.match(s) else None


def _split_top_level(s: str, sep: str = ",") -> list[str]:
    """Split at `sep` outside (), [], {}: "(\frac{1}{2}, f(1,2))" keeps f(1,2) whole."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(s):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(s[start:i])
            start = i + 1
    parts.append(s[start:])
    return [p.strip() for p in parts]


def _strip_outer_brackets(s: str) -> str:
    if s.startswith("\\{") and s.endswith("\\}"):
        return s[2:-2]
    return s[1:-1]


def _matrix_rows(s: str) -> list[list[str]] | None:
    m = _MATRIX.match(s)
    if not m:
        return None
    rows = [r for r in re.split(r"\\\\", m.group(2)) if r.strip()]
    return [[cell.strip() for cell in row.split("&")] for row in rows]


def _equation_sides(s: str) -> tuple[str, str] | None:
    if s.count("=") != 1 or any(op in s for op in ("<=", ">=", "!=", "\\le", "\\ge", "\\ne")):
        return None
    lhs, rhs = s.split("=")
    return (lhs.strip(), rhs.strip()) if lhs.strip() and rhs.strip() else None


def _all_equal(preds: list[str], refs: list[str]) -> bool:
    return len(preds) == len(refs) and all(answers_equal(p, r) for p, r in zip(preds, refs))


def answers_equal(prediction: str, reference: str) -> bool:
    """Whether two normalized answers are the same by the Qwen2.5-Math rules."""
    if prediction.lower() == reference.lower():
        return True
    pred_number, ref_number = _plain_number(prediction), _plain_number(reference)
    if pred_number is not None and ref_number is not None:
        # A percentage question may be answered as 50 or 0.5 against either reference form.
        return any(math.isclose(pred_number, target, rel_tol=REL_TOL)
                   for target in (ref_number / 100, ref_number, ref_number * 100))
    if not prediction:
        return False
    # Grouping characters ignored: "\mathbf{(B)}" vs "B", "\frac{1}{2}" vs "\frac12".
    if re.sub(r"[{}()]", "", prediction).lower() == re.sub(r"[{}()]", "", reference).lower():
        return True

    pred_bracketed, ref_bracketed = bool(_BRACKETED.match(prediction)), bool(_BRACKETED.match(reference))
    if pred_bracketed or ref_bracketed:
        pred_items = _split_top_level(_strip_outer_brackets(prediction) if pred_bracketed else prediction)
        ref_items = _split_top_level(_strip_outer_brackets(reference) if ref_bracketed else reference)
        # "(A)" vs "A"; "(1, 2)" vs "1,2"; "[1, 2)" vs "(1, 2)" too: bracket types are ignored
        if _all_equal(pred_items, ref_items):
            return True

    pred_matrix, ref_matrix = _matrix_rows(prediction), _matrix_rows(reference)
    if pred_matrix is not None and ref_matrix is not None:
        return len(pred_matrix) == len(ref_matrix) and all(map(_all_equal, pred_matrix, ref_matrix))

    pred_equation, ref_equation = _equation_sides(prediction), _equation_sides(reference)
    if pred_equation and ref_equation:
        pred_difference = f"{pred_equation[0]}-({pred_equation[1]})"
        ref_difference = f"{ref_equation[0]}-({ref_equation[1]})"
        if symbolic_equal(pred_difference, ref_difference) or symbolic_equal(f"-({pred_difference})", ref_difference):
            return True
    elif pred_equation and _SIMPLE_LHS.match(pred_equation[0]):
        if answers_equal(pred_equation[1], reference):
            return True
    elif ref_equation and _SIMPLE_LHS.match(ref_equation[0]):
        if answers_equal(prediction, ref_equation[1]):
            return True

    return symbolic_equal(prediction, reference)


def _parse(expression: str):
    """A sympy object for a LaTeX or plain-text expression; raises if neither parser accepts it."""
    from latex2sympy2_extended import latex2sympy

    try:
        return latex2sympy(expression)
    except Exception:
        from sympy.parsing.sympy_parser import (convert_xor, implicit_multiplication_application, parse_expr,
                                                standard_transformations)

        return parse_expr(expression, transformations=standard_transformations
                          + (implicit_multiplication_application, convert_xor))


def symbolic_equal(prediction: str, reference: str) -> bool:
    """sympy equality; every route that raises counts as "not equal by this route"."""
    import sympy

    try:
        a, b = _parse(prediction), _parse(reference)
    except Exception:
        return False
    try:
        if a == b or str(a) == str(b):
            return True
    except Exception:
        pass
    try:
        if sympy.simplify(a - b) == 0:
            return True
    except Exception:
        pass
    try:
        if isinstance(a, sympy.MatrixBase) and isinstance(b, sympy.MatrixBase):
            return a.shape == b.shape and all(
                math.isclose(float(sympy.N(x)), float(sympy.N(y)), rel_tol=REL_TOL, abs_tol=1e-12) for x, y in zip(a, b))
    except Exception:
        pass
    try:
        return math.isclose(float(sympy.N(a)), float(sympy.N(b)), rel_tol=REL_TOL)
    except Exception:
        return False


# --- the grader ---------------------------------------------------------------------------------

def grade(response: str, reference: str) -> tuple[str, str | None]:
    """("correct" | "wrong" | "no_answer", the answer extracted from `response` or None)."""
    extracted = extract_answer(response)
    if extracted is None:
        return "no_answer", None
    prediction = normalize_answer(extracted)
    if not prediction:  # e.g. an empty \boxed{}
        return "no_answer", extracted
    return ("correct" if answers_equal(prediction, normalize_answer(reference)) else "wrong"), extracted
