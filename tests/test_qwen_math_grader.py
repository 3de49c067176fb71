import json
import math

import pytest

from rlvr_eval.data.benchmarks import load_benchmark
from rlvr_eval.verify.graders import get_grader
from rlvr_eval.verify.qwen_math_causes import disagreement_cause
from rlvr_eval.verify.qwen_math_grader import extract_answer, grade
from workflow_helpers import SHARED

GSM8K_SOLUTIONS = SHARED / "data" / "samples" / "gsm8k_gpt3_solutions.jsonl"
GSM8K_SOLVERS = ["6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification"]


GAOKAO = "gaokao2023en"


@pytest.mark.parametrize("response, reference, benchmark, status", [
    # 1. unbracketed lists: read up to the first comma, so only the first items are compared
    (r"\boxed{\frac{1}{2}, 5}", r"\frac{1}{2}, 3", GAOKAO, "correct"),
    (r"\boxed{3, \frac{1}{2}}", r"\frac{1}{2}, 3", GAOKAO, "wrong"),
    # 2. "and" is deleted, not read as a separator
    (r"\boxed{4 \text{ and } 8}", "48", GAOKAO, "correct"),
    # 3. strings compare case-insensitively; Unicode letters are not LaTeX
    (r"\boxed{N+1}", "n+1", GAOKAO, "correct"),
    (r"\boxed{α}", r"\alpha", GAOKAO, "wrong"),
    # 4. a left side is dropped only when it has at most 2 characters
    (r"\boxed{y=2x+1}", "2x+1", GAOKAO, "correct"),
    (r"\boxed{f(x)=2x}", "2x", GAOKAO, "wrong"),
    (r"\boxed{x^2+y^2=1}", "y^2+x^2=1", GAOKAO, "correct"),
    (r"\boxed{x = = 3}", "3", GAOKAO, "correct"),  # "x=" is deleted, then the empty left side
    # 5. numbers: relative tolerance 1e-4, boundary included; reference x100 and /100
    (r"\boxed{1.0001}", "1", GAOKAO, "correct"),
    (r"\boxed{1.0002}", "1", GAOKAO, "wrong"),
    (r"\boxed{50}", "0.5", GAOKAO, "correct"),
    (r"\boxed{10000}", r"10{,}000", GAOKAO, "wrong"),  # float() cannot read the reference
    # 6. sympy's LaTeX parser: \log is the natural log
    (r"\boxed{\log 8}", r"3\ln 2", GAOKAO, "correct"),
    # 7. units are stripped, except on minerva_math
    (r"\boxed{\frac{1}{2} m}", r"\frac{1}{2}", GAOKAO, "correct"),
    (r"\boxed{\frac{1}{2} m}", r"\frac{1}{2}", "minerva_math", "wrong"),
    (r"\boxed{12\text{ cm}}", "12", GAOKAO, "correct"),
    # brackets and structures
    (r"\boxed{[1,2)}", "(1,2)", GAOKAO, "correct"),
    (r"\boxed{\begin{pmatrix} 1 & \frac12 \\ 3 & 4 \end{pmatrix}}", r"\begin{pmatrix}1&0.5\\3&4\end{pmatrix}", GAOKAO,
     "correct"),
    # multiple choice: a non-letter prediction is replaced by the letter read from the response
    (r"so \boxed{4^x}, which is choice (A)", "A", GAOKAO, "correct"),
    # e-notation: float() reads it, but sympy's LaTeX parser (tried first) reads 3.89e-10 as 3.89 e - 10, e a symbol
    (r"\boxed{3.89e-10}", "3.89e-10", "minerva_math", "correct"),
    (r"\boxed{2.45e6}", "2450000", "minerva_math", "correct"),
    (r"\boxed{3.89 \times 10^{-10}}", "3.89e-10", "minerva_math", "wrong"),
])
def test_the_original_rules_faults_included(response, reference, benchmark, status):
    assert grade(response, reference, benchmark)[0] == status


@pytest.mark.parametrize("response, expected", [
    (r"so the result is \boxed{\frac{1}{\sqrt{2}}}.", r"\frac{1}{\sqrt{2}}"),  # nested braces balanced
    (r"first \boxed{1}, then \boxed{2}", "2"),  # the last box
    ("The final answer is $42$. I hope it is correct.", "42"),  # Minerva
    ("Thus the answer is 12", "12"),
    ("There are 3 red and 5 blue, so 8 altogether.", "8"),  # last number
    ("It costs $1,250 after tax", "1250"),
])
def test_answer_extraction(response, expected):
    assert extract_answer(response) == expected


@pytest.mark.parametrize("response", ["I do not know.", "", r"\boxed{}"])
def test_no_answer(response):
    assert grade(response, "42", GAOKAO)[0] == "no_answer"


@pytest.mark.parametrize("response, reference", [
    (r"\boxed{\frac{1}{}}", r"\frac{1}{2}"),
    (r"\boxed{((((}", "(1,2)"),
    (r"\boxed{\sqrt{}+\int}", "x"),
])
def test_unparsable_answers_are_wrong_not_errors(response, reference):
    assert grade(response, reference, GAOKAO)[0] == "wrong"


def test_registered_as_qwen_math():
    assert get_grader("qwen_math") is grade


def test_agrees_with_the_gsm8k_authors_labels(mirror):
    """Real GPT-3 solutions with correctness labels written by the GSM8K authors, not by us."""
    references = load_benchmark("gsm8k", mirror)[0]["reference"].tolist()
    rows = [json.loads(line) for line in GSM8K_SOLUTIONS.read_text().splitlines()]
    assert len(rows) == len(references) == 1319
    disagreements, total = [], 0
    for problem, (row, reference) in enumerate(zip(rows, references)):
        for solver in GSM8K_SOLVERS:
            solution = row[solver]
            status, extracted = grade(solution["solution"], reference, "gsm8k")
            total += 1
            if (status == "correct") != solution["is_correct"]:
                disagreements.append((problem, solver, reference, extracted, status, solution["is_correct"]))
    for d in disagreements:
        print("problem {} {}: reference {!r}, extracted {!r}, graded {}, label is_correct={}".format(*d))
    agreement = 1 - len(disagreements) / total
    print(f"agreement {agreement:.4%} over {total} solutions, {len(disagreements)} disagreements")
    assert agreement >= 0.99
    # Each disagreement should be a leniency of the rules themselves, not an extraction slip: a
    # labelled-wrong answer within 1e-4 of the reference, the reference / 100 or × 100.
    for problem, solver, reference, extracted, status, is_correct in disagreements:
        assert status == "correct" and not is_correct
        assert any(math.isclose(float(extracted), float(reference) * f, rel_tol=1e-4) for f in (0.01, 1, 100))


@pytest.mark.parametrize("prediction, reference, other_extracted, cause", [
    ("48", r"4 \text{ and } 8", "4, 8", "and"),
    ("\\frac{2}{5}x+13", r"f(x)=-\frac25 x + 13", "-\\frac{2}{5}x + 13", "left side"),
    ("8164964", "8164961", "8164964", "tolerance"),
    ("50", "0.5", "50", "percent"),
    ("I,III,IV", "I,II,III,IV", "I, III, IV", "list"),
    ("N+1", "n+1", "N+1", "case"),
    ("^2++b", "ab+ab^{2}+b", "a b^2 + ab + b", "units"),
    ("2.625", r"2\frac58", "2.625", "mixed number"),
    ("A", "A", "4^x", "multiple choice"),
])
def test_disagreement_causes(prediction, reference, other_extracted, cause):
    """Real disagreements with math-verify on gaokao2023en, named by the rule behind them."""
    assert disagreement_cause(prediction, reference, other_extracted, GAOKAO) == cause
