"""Cheap answer location and the pathological-answer screen (rlvr_eval.verify.answer_spans), and that grading
the located span gives the whole response's verdict (span_grader vs the graders themselves)."""

from __future__ import annotations

import time

import pytest

from rlvr_eval.verify.answer_spans import math_verify_span, pathological
from rlvr_eval.verify.graders import get_grader
from rlvr_eval.verify.qwen_math_extract import answer_span
from rlvr_eval.verify.span_grader import UNSURE, grade_item


@pytest.mark.parametrize("answer, screened", [
    ("5^{5^{5^{5^{5}}}}", True), ("(10^{10})!", True), ("10^{10^{10^{10}}}", True), ("9^{9^{9^{9}}}", True),
    ("10^{1000000000}", True), ("1000000!", True),
    ("5^{5^{5}}", False), ("2^{10}", False), ("100!", False), ("x^{2}+1", False), ("\\frac{1}{2}", False),
])
def test_pathological_screens_towers_and_huge_factorials_only(answer, screened):
    assert pathological(answer) is screened


def test_span_location_is_linear_and_skips_long_degenerate_outputs():
    looping = ("16 - 3 - 4 = 9 eggs, so she makes 9 * 2 = 18 dollars.\n" * 2000) + "A: 18"
    started = time.perf_counter()
    tail = math_verify_span(looping)  # the last lines only, from a line start
    assert tail.endswith("\nA: 18") and len(tail) <= 300 and looping.endswith("\n" + tail.split("\n", 1)[1])
    assert math_verify_span(looping + " \\boxed{\\frac{1}{2}} and more") == "\\boxed{\\frac{1}{2}}"
    assert answer_span(looping) == "18"
    assert time.perf_counter() - started < 0.5


def test_an_anchored_answer_far_back_means_grading_the_whole_response():
    # math-verify's "answer" patterns outrank the last number: the tail alone could not decide
    assert math_verify_span("The answer is 7.\n" + "and then 3 more steps\n" * 200) is None


@pytest.mark.parametrize("response, reference", [
    ("She makes 9 * 2 = $18 every day.\nA: 18", "18"),
    ("So the total is 26.\nThe answer is 26.", "18"),
    ("We get $x = \\frac{1}{2}$, so the final answer is $\\boxed{\\frac12}$.", "\\frac{1}{2}"),
    ("Thus $\\boxed{(3, \\frac{\\pi}{2})}$ is the point.", "\\left( 3, \\frac{\\pi}{2} \\right)"),
    ("I cannot finish this problem.", "18"),
])
@pytest.mark.parametrize("grader", ["math_verify", "qwen_math"])
def test_grading_the_span_gives_the_whole_responses_verdict(grader, response, reference):
    span = math_verify_span(response) if grader == "math_verify" else answer_span(response)
    whole = get_grader(grader)(response, reference, "math500")
    by_span = grade_item(grader, "span", span, reference, "math500") if span is not None else (UNSURE, None)
    if by_span[0] == UNSURE:  # the driver then grades the whole response
        by_span = grade_item(grader, "full", response, reference, "math500")
    assert by_span == whole
