"""R1-style responses (the paper's Fig. 27 prompt, `verl-r1` / `deepseek-r1`) are graded by their <answer> tag's
content; a response without the tag is graded not correct (no_answer), never an error; other templates' responses
are graded whole, as before."""

from __future__ import annotations

import pandas as pd
import pytest

from rlvr_eval.io import read_parquet, read_parquet_metadata, write_parquet
from rlvr_eval.sampling.prompts import TEMPLATES, template_names
from rlvr_eval.verify.answer_format import (TEMPLATE_ANSWER_FORMATS, answer_format, answer_tag_content, as_final_answer,
                                           graded_text)
from rlvr_eval.verify.driver import verify_shard

# Responses in the style of Qwen2.5-7B under the R1 prompt (Omni-MATH-Rule problems and their references).
TAGGED = ("<think> The polynomial x^3 - 3x + 1 has three real roots; by Vieta the sum of their squares is "
          "(sum)^2 - 2(sum of products) = 0 - 2(-3) = 6. </think> <answer> 6 </answer>")
TAGGED_BOXED = ("<think> Each of the 2n players plays n games... so the maximum is n(n-1)/2, wait, checking n = 3 "
                "gives 4, so it is \\lfloor n^2/2 \\rfloor - 1 = 3 for n = 3. </think>\n<answer> $\\boxed{\\frac{n^2}{2}}$ "
                "</answer>")
# The paper's math code stops at "</answer>": the tag is never closed in its responses.
UNCLOSED = "<think> 2 + 2 = 4, and the area is twice that. </think> <answer> 8"
# The reasoning names the right number but no <answer> tag gives it: not an answer in the asked format.
UNTAGGED = "We compute the sum of squares: it equals 6. So the answer is \\boxed{6}."
# The last tag counts (a model that corrects itself).
TWO_TAGS = "<think> first try </think> <answer> 5 </answer> Wait, I made an error. <answer> 6 </answer>"
EMPTY_TAG = "<think> I am not sure. </think> <answer> </answer>"
# Bare LaTeX in the tag, as Omni-MATH-Rule's references are written: graded as the final answer, not its last number.
BARE_LATEX = "<think> The side is 10 and the diagonal adds 10\\sqrt{5}, three times. </think> <answer> 30(1 + \\sqrt{5}) </answer>"
DELIMITED = "<think> Half of them. </think> <answer> \\(\\frac{1}{2}\\) </answer>"


@pytest.mark.parametrize("content, final", [
    ("30(1 + \\sqrt{5})", "\\boxed{30(1 + \\sqrt{5})}"), ("$\\frac{1}{2}$", "\\boxed{\\frac{1}{2}}"),
    ("\\[ 2^{n} \\]", "\\boxed{2^{n}}"), ("\\(x\\)", "\\boxed{x}"), ("$\\boxed{7}$", "$\\boxed{7}$"), ("", ""),
    ("$", "\\boxed{$}"),
])
def test_the_tags_content_is_graded_as_a_final_answer(content, final):
    assert as_final_answer(content) == final


@pytest.mark.parametrize("response, content", [
    (TAGGED, "6"), (TAGGED_BOXED, "$\\boxed{\\frac{n^2}{2}}$"), (UNCLOSED, "8"), (UNTAGGED, None), (TWO_TAGS, "6"),
    (EMPTY_TAG, ""), ("", None),
])
def test_answer_tag_content(response, content):
    assert answer_tag_content(response) == content


def test_only_the_r1_templates_grade_the_answer_tag():
    assert {t for t in template_names() if answer_format(t) == "answer_tag"} == {"verl-r1", "deepseek-r1"}
    # Every template whose prompt asks for <answer> tags in the response has the tag format, and no other.
    asks = {t.name for t in TEMPLATES.values() if "<answer> answer here </answer>" in t.text}
    assert asks == set(TEMPLATE_ANSWER_FORMATS)
    assert answer_format(None) == answer_format("qwen-boxed") == "boxed"
    assert graded_text(UNTAGGED, "boxed") == UNTAGGED and graded_text(UNTAGGED, "answer_tag") == ""
    with pytest.raises(ValueError, match="unknown answer format 'xml'"):
        graded_text(TAGGED, "xml")


PROBLEMS = pd.DataFrame({"problem_id": ["0", "1", "2", "3", "4"], "question": ["…"] * 5,
                         "reference": ["6", "\\frac{n^2}{2}", "8", "30(1 + \\sqrt{5})", "\\frac{1}{2}"]})
SAMPLES = pd.DataFrame({
    "problem_id": ["0", "1", "2", "0", "0", "0", "0", "3", "4"],
    "sample_index": [0, 0, 0, 1, 2, 3, 4, 0, 0],
    "text": [TAGGED, TAGGED_BOXED, UNCLOSED, UNTAGGED, TWO_TAGS, EMPTY_TAG, None, BARE_LATEX, DELIMITED],
})


@pytest.mark.parametrize("grader", ["math_verify", "qwen_math"])
def test_verify_shard_grades_r1_responses_by_their_answer_tag(tmp_path, grader):
    samples_path, problems_path = tmp_path / "shard-0000.parquet", tmp_path / "problems.parquet"
    write_parquet(samples_path, SAMPLES, {"spec": {"model": "m", "benchmark": "omni_math_test", "shard": 0},
                                          "template": "verl-r1"})
    write_parquet(problems_path, PROBLEMS)
    out = tmp_path / "verdicts.parquet"
    verify_shard(samples_path, problems_path, out, grader, timeout_s=30, workers=1, benchmark="omni_math_test")
    verdicts = read_parquet(out)
    assert verdicts["correct"].tolist() == [True, True, True, False, True, False, False, True, True]
    assert verdicts["status"].tolist()[3] == "no_answer"  # the untagged response: not an answer, not an error
    assert read_parquet_metadata(out)["answer_format"] == "answer_tag"

    # The same responses sampled with a boxed template are graded whole: the untagged one's box counts.
    write_parquet(samples_path, SAMPLES, {"spec": {"model": "m", "benchmark": "b", "shard": 0},
                                          "template": "qwen-boxed"})
    verify_shard(samples_path, problems_path, out, grader, timeout_s=30, workers=1, benchmark="omni_math_test")
    assert read_parquet(out)["correct"].tolist()[3] is True
    assert read_parquet_metadata(out)["answer_format"] == "boxed"
