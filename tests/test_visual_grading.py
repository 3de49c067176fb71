"""Grading visual benchmarks on the last \\boxed{}: every real free-form gold answer, boxed, is correct."""

from __future__ import annotations

import json

import pytest

from rlvr_eval.data.benchmarks import load_benchmark
from rlvr_eval.verify.graders import get_grader


def mathvista_free_form(mirror):
    rows = json.loads((mirror / "mathvista/testmini.json").read_text()).values()
    return [r for r in rows if r["question_type"] == "free_form"]


def response(answer):
    return f"<think>\nReading the figure, then counting.\n</think>\nThe answer is \\boxed{{{answer}}}."


@pytest.mark.parametrize("grader", ["math_verify", "qwen_math"])
def test_every_mathvision_free_form_answer_boxed_is_correct(mirror, grader):
    table, _ = load_benchmark("mathvision", mirror)
    grade = get_grader(grader)
    wrong = [(ref, grade(response(ref), ref, "mathvision")) for ref in table["reference"]]
    assert len(wrong) == 114
    assert [w for w in wrong if w[1][0] != "correct"] == []


@pytest.mark.parametrize("grader", ["mathvista", "math_verify", "qwen_math"])
def test_every_mathvista_free_form_answer_boxed_is_correct(mirror, grader):
    rows = mathvista_free_form(mirror)
    grade = get_grader(grader)
    verdicts = [(r["answer"], grade(response(r["answer"]), r["answer"], "mathvista")) for r in rows]
    assert len(verdicts) == 460
    assert [v for v in verdicts if v[1][0] != "correct"] == []


def test_float_precision_is_the_references_decimals(mirror):
    """The rule reads the precision off the reference: true of every free-form float item of testmini."""
    floats = [r for r in mathvista_free_form(mirror) if r["answer_type"] == "float"]
    assert len(floats) == 40
    assert all(len(r["answer"].split(".")[1]) == r["precision"] for r in floats)


@pytest.mark.parametrize("boxed, reference, status", [
    ("1.22", "1.2", "correct"),            # rounded to precision 1
    ("1.26", "1.2", "wrong"),
    ("51.044", "51.04", "correct"),
    ("8", "8", "correct"),
    ("8.0", "8", "correct"),
    ("\\frac{16}{2}", "8", "correct"),
    ("8.4", "8", "wrong"),                 # integers compare as integers, not rounded
    ("1,680", "1680", "correct"),
    ("45^\\circ", "45", "correct"),
    ("5 \\text{ years}", "5", "correct"),
    ("[2014, 2016]", "[2014, 2016]", "correct"),
    ("2014, 2016", "[2014, 2016]", "correct"),
    ("[2016, 2014]", "[2014, 2016]", "wrong"),   # element-wise, in order
    ("[2014]", "[2014, 2016]", "wrong"),
    ("seven", "7", "wrong"),
])
def test_mathvista_rule(boxed, reference, status):
    got, extracted = get_grader("mathvista")(f"so \\boxed{{{boxed}}}", reference, "mathvista")
    assert (got, extracted) == (status, boxed)


def test_mathvista_rule_needs_a_box():
    assert get_grader("mathvista")("The answer is 7.", "7", "mathvista") == ("no_answer", None)


@pytest.mark.parametrize("grader", ["mathvista", "math_verify", "qwen_math"])
def test_mathvista_samples_are_verified_through_the_fast_path_as_by_the_grader(grader):
    """verify_samples' default (fast) path asks each grader where the answer lies; the MathVista rule grades the
    whole response."""
    import pandas as pd

    from rlvr_eval.verify.driver import verify_samples

    problems = pd.DataFrame({"problem_id": ["1", "2", "3"], "reference": ["8", "1.2", "[2014, 2016]"]})
    texts = [response("8.0"), "no box here", response("1.26"), response("2014, 2016")]
    samples = pd.DataFrame({"problem_id": ["1", "1", "2", "3"], "sample_index": [0, 1, 0, 0], "text": texts,
                            "finish_reason": ["stop"] * 4})
    verdicts = verify_samples(samples, problems, grader, timeout_s=10, workers=1, benchmark="mathvista")
    expected = [get_grader(grader)(t, r, "mathvista")[0] for t, r in zip(texts, ["8", "8", "1.2", "[2014, 2016]"])]
    assert list(verdicts["status"]) == expected
    if grader == "mathvista":
        assert expected == ["correct", "no_answer", "wrong", "correct"]
