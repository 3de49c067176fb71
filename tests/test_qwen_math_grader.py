import json
import math

import pytest

from rlvr_eval.benchmarks import load_benchmark
from rlvr_eval.verify.graders import get_grader
from rlvr_eval.verify.qwen_math_grader import extract_answer, grade, normalize_answer
from workflow_helpers import SHARED

GSM8K_SOLUTIONS = SHARED / "data" / "samples" / "gsm8k_gpt3_solutions.jsonl"
GSM8K_SOLVERS = ["6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification"]


@pytest.mark.parametrize("response, reference", [
    # percentages: 50% answers a reference of 50 or of 0.5, either way round
    (r"\boxed{50\%}", "0.5"),
    (r"\boxed{50\%}", "50"),
    (r"\boxed{0.5}", r"50\%"),
    # numeric closeness, relative tolerance 1e-4
    (r"\boxed{3.14159}", "3.1416"),
    (r"\boxed{\$18.00}", "18"),
    (r"\boxed{1,000}", "1000"),
    # tuples and intervals, element by element
    (r"\boxed{(1, 2)}", r"\left(1,2\right)"),
    (r"\boxed{(\frac{1}{2}, 3)}", "(0.5, 3)"),
    (r"\boxed{[1, 2)}", "[1,2)"),
    (r"\boxed{(-\infty, 3]}", r"(-\infty,3]"),
    (r"\boxed{(1,2)}", "[1,2]"),  # as in the original rules, bracket types are not compared
    (r"\boxed{\text{(B)}}", "B"),
    (r"\boxed{\mathbf{(B)}}", r"\text{(B)}"),
    (r"\boxed{x \in [-2, 7]}", "[-2,7]"),
    # matrices, element by element
    (r"\boxed{\begin{pmatrix} 1 & \frac12 \\ 3 & 4 \end{pmatrix}}", r"\begin{pmatrix}1&0.5\\3&4\end{pmatrix}"),
    # equations: a single-variable left side is dropped; others compare as differences
    (r"\boxed{x = 5}", "5"),
    (r"\boxed{y=2x+1}", "2x+1"),
    (r"\boxed{x+y=1}", "y+x=1"),
    # units, degrees, fraction macros
    (r"\boxed{5 \text{ cm}}", "5"),
    (r"\boxed{12 \text{ cm}^2}", "12"),
    (r"\boxed{30^\circ}", "30"),
    (r"\boxed{\dfrac{1}{2}}", "0.5"),
    (r"\boxed{\tfrac12}", r"\frac{1}{2}"),
    # symbolic equality through sympy
    (r"\boxed{\frac{\sqrt{2}}{2}}", r"\frac{1}{\sqrt{2}}"),
    (r"\boxed{x^2 - 1}", "(x-1)(x+1)"),
    (r"\boxed{2\pi}", r"2 \pi"),
    # string equality ignores case
    (r"\boxed{\text{Yes}}", "yes"),
])
def test_equivalent_answers_are_correct(response, reference):
    status, _ = grade(response, reference)
    assert status == "correct", (response, reference, normalize_answer(extract_answer(response)),
                                 normalize_answer(reference))


@pytest.mark.parametrize("response, reference", [
    (r"\boxed{7}", "42"),
    (r"\boxed{3.14}", "3.1416"),  # outside the 1e-4 tolerance
    (r"\boxed{5}", "0.05001"),  # percent forms need the same tolerance
    (r"\boxed{(1, 3)}", "(1, 2)"),
    (r"\boxed{(1, 2, 3)}", "(1, 2)"),
    (r"\boxed{[1, 3)}", "[1,2)"),
    (r"\boxed{x \in [-2, 8]}", "[-2,7]"),
    (r"\boxed{\begin{pmatrix} 1 \\ 3 \end{pmatrix}}", r"\begin{pmatrix}1\\2\end{pmatrix}"),
    (r"\boxed{x = 6}", "5"),
    (r"\boxed{y=2x-1}", "2x+1"),
    (r"\boxed{x+y=2}", "x+y=1"),
    (r"\boxed{\frac{\sqrt{3}}{2}}", r"\frac{1}{\sqrt{2}}"),
    (r"\boxed{2\pi r}", r"2\pi"),
    (r"\boxed{\text{No}}", "yes"),
])
def test_different_answers_stay_wrong(response, reference):
    assert grade(response, reference)[0] == "wrong"


@pytest.mark.parametrize("response, expected", [
    (r"so the result is \boxed{\frac{1}{\sqrt{2}}}.", r"\frac{1}{\sqrt{2}}"),  # nested braces balanced
    (r"first \boxed{1}, then \boxed{2}", "2"),  # the last box
    ("The final answer is $42$. I hope it is correct.", "42"),  # Minerva
    ("We get $x=3$, hence the final answer is $\\frac{3}{4}$. I hope it is correct.", r"\frac{3}{4}"),
    (r"The final answer is $\boxed{5}$. I hope it is correct.", "5"),
    ("The final answer is $n=3$. So in general...\nThe final answer is $960$. I hope it is correct.", "960"),
    ("Adding up gives 40 in total.\nAnswer: 42", "42"),  # DAPO template
    ("**Answer:** $7$", "$7$"),
    ("Thus the answer is 12. We double check with 5 + 7 = 12.", "12"),
    ("The answer is: $\\frac{1}{2}$ as required.", r"\frac{1}{2}"),
    ("I first thought the answer is 3.\nAnswer: 4", "4"),  # the later explicit statement wins
    ("Answer: 4\nOn reflection, the answer is 5.", "5"),
    ("There are 3 red and 5 blue, so 8 altogether.", "8"),  # last number
    ("It costs $1,250 after tax", "1250"),
    ("The temperature drops to -4.5 degrees", "-4.5"),
])
def test_answer_extraction(response, expected):
    assert extract_answer(response) == expected


@pytest.mark.parametrize("response", ["I do not know.", "", "Answer:", r"\boxed{}"])
def test_no_answer(response):
    assert grade(response, "42")[0] == "no_answer"


def test_minerva_and_dapo_forms_are_graded():
    assert grade("The final answer is $\\frac{1}{2}$. I hope it is correct.", "0.5") == ("correct", r"\frac{1}{2}")
    assert grade("5 + 37 = 42\nAnswer: 42", "42") == ("correct", "42")
    assert grade("5 + 37 = 42\nAnswer: 41", "42") == ("wrong", "41")


@pytest.mark.parametrize("response, reference", [
    (r"\boxed{\frac{1}{}}", r"\frac{1}{2}"),
    (r"\boxed{((((}", "(1,2)"),
    (r"\boxed{\sqrt{}+\int}", "x"),
    (r"\boxed{x = = 3}", "3"),
    (r"\boxed{\begin{pmatrix}1\\2\end{pmatrix}}", "(1,2]"),
])
def test_unparsable_answers_are_wrong_not_errors(response, reference):
    assert grade(response, reference)[0] == "wrong"


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
            status, extracted = grade(solution["solution"], reference)
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
