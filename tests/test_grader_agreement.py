import pandas as pd
import pytest

from rlvr_eval.analysis.grader_agreement import grader_agreement_report, write_report


def verdicts(rows: list[tuple[str, int, str, str | None]], reference: dict[str, str]) -> pd.DataFrame:
    """Verdict table (schema of rlvr_eval.verify.graders) from (problem_id, sample_index, status, extracted)."""
    return pd.DataFrame([
        {"problem_id": p, "sample_index": i, "status": s, "correct": s == "correct", "extracted": x,
         "reference": reference[p], "seconds": 0.01}
        for p, i, s, x in rows
    ])


REFERENCE = {"p1": "42", "p2": "7", "p3": "1/2"}
# Three problems of four samples. The graders disagree on correctness twice: p1 #1 (only B says
# correct) and p2 #3 (only A); statuses also differ, without a correctness change, at p1 #2 and p2 #2.
VERDICTS_A = verdicts([
    ("p1", 0, "correct", "42"), ("p1", 1, "wrong", "42.0 apples"), ("p1", 2, "no_answer", None), ("p1", 3, "wrong", "41"),
    ("p2", 0, "wrong", "8"), ("p2", 1, "wrong", "9"), ("p2", 2, "timeout", None), ("p2", 3, "correct", "700%"),
    ("p3", 0, "wrong", "1"), ("p3", 1, "wrong", "2"), ("p3", 2, "wrong", "3"), ("p3", 3, "wrong", "4"),
], REFERENCE)
VERDICTS_B = verdicts([
    # deliberately in another row order: rows are matched by (problem_id, sample_index)
    ("p3", 3, "wrong", "4"), ("p3", 2, "wrong", "3"), ("p3", 1, "wrong", "2"), ("p3", 0, "wrong", "1"),
    ("p1", 0, "correct", "42"), ("p1", 1, "correct", "42.0"), ("p1", 2, "wrong", "40"), ("p1", 3, "wrong", "41"),
    ("p2", 0, "wrong", "8"), ("p2", 1, "wrong", "9"), ("p2", 2, "wrong", "6"), ("p2", 3, "wrong", "700"),
], REFERENCE)


@pytest.fixture(scope="module")
def report():
    return grader_agreement_report(VERDICTS_A, VERDICTS_B, "qwen_math", "math_verify")


def test_agreement_counts_and_status_crosstab(report):
    summary = report["summary"].iloc[0]
    assert (summary["samples"], summary["problems"], summary["agree"], summary["disagree"]) == (12, 3, 10, 2)
    assert summary["agreement"] == pytest.approx(10 / 12)
    assert (summary["correct_only_qwen_math"], summary["correct_only_math_verify"]) == (1, 1)
    assert summary["status_differs"] == 4
    crosstab = report["status_crosstab"]
    assert (crosstab.index.name, crosstab.columns.name) == ("qwen_math", "math_verify")
    nonzero = {(a, b): n for (a, b), n in crosstab.stack().items() if n}
    assert nonzero == {("correct", "correct"): 1, ("wrong", "correct"): 1, ("no_answer", "wrong"): 1,
                       ("wrong", "wrong"): 7, ("timeout", "wrong"): 1, ("correct", "wrong"): 1}


def test_disagreements_list_both_answers_and_the_reference(report):
    rows = report["disagreements"].to_dict("records")
    assert rows == [
        {"problem_id": "p1", "sample_index": 1, "reference": "42", "status_qwen_math": "wrong",
         "status_math_verify": "correct", "extracted_qwen_math": "42.0 apples", "extracted_math_verify": "42.0", "cause": "other"},
        {"problem_id": "p2", "sample_index": 3, "reference": "7", "status_qwen_math": "correct",
         "status_math_verify": "wrong", "extracted_qwen_math": "700%", "extracted_math_verify": "700", "cause": "parse failure"},
    ]


def test_disagreements_grouped_by_the_rule_of_the_papers_grader(report):
    """Each cause says how many samples it flips and what it does to pass@k: qwen_math's pass@k
    minus its pass@k with the other grader's verdicts on those samples."""
    causes = report["causes"].set_index("cause")
    assert causes.index.tolist() == ["parse failure", "other"]
    assert causes.loc["parse failure", ["samples", "correct_only_qwen_math", "correct_only_math_verify"]].tolist() \
        == [1, 1, 0]
    # p2 goes from c=1 to c=0 of n=4: pass@1 1/4, pass@2 1/2, pass@4 1, each over 3 problems
    assert causes.loc["parse failure", ["shift_pass@1", "shift_pass@2", "shift_pass@4"]].tolist() \
        == pytest.approx([1 / 12, 1 / 6, 1 / 3])
    # p1 goes from c=1 to c=2: pass@2 from 1/2 to 5/6, pass@4 stays 1
    assert causes.loc["other", ["shift_pass@1", "shift_pass@2", "shift_pass@4"]].tolist() \
        == pytest.approx([-1 / 12, -1 / 9, 0])


def test_no_causes_without_the_papers_grader():
    assert grader_agreement_report(VERDICTS_A, VERDICTS_B, "a", "b")["causes"].empty


def test_pass_at_k_side_by_side(report):
    table = report["pass_at_k"].set_index("k")
    assert table.index.tolist() == [1, 2, 4]
    # A: c = 1, 1, 0 of n = 4; B: c = 2, 0, 0.  pass@2 for c=1 is 1 - C(3,2)/C(4,2) = 1/2, for c=2 5/6.
    assert table["qwen_math"].tolist() == pytest.approx([1 / 6, 1 / 3, 2 / 3])
    assert table["math_verify"].tolist() == pytest.approx([1 / 6, 5 / 18, 1 / 3])
    assert table["math_verify - qwen_math"].tolist() == pytest.approx([0, 5 / 18 - 1 / 3, -1 / 3])


def test_coverage_at_k_equals_n(report):
    coverage = report["coverage"].set_index("grader")
    assert coverage.loc["qwen_math", ["problems", "solved", "solved_only_by_this_grader"]].tolist() == [3, 2, 1]
    assert coverage.loc["math_verify", ["problems", "solved", "solved_only_by_this_grader"]].tolist() == [3, 1, 0]
    assert coverage.loc["qwen_math", "coverage"] == pytest.approx(2 / 3)


def test_sample_texts_join_the_disagreements():
    samples = pd.DataFrame({"problem_id": ["p2", "p1", "p1"], "sample_index": [3, 1, 0],
                            "text": ["... so 700%", "... 42.0 apples", "... 42"]})
    report = grader_agreement_report(VERDICTS_A, VERDICTS_B, "qwen_math", "math_verify", samples=samples)
    assert report["disagreements"]["text"].tolist() == ["... 42.0 apples", "... so 700%"]


def test_tables_of_different_samples_are_refused():
    with pytest.raises(ValueError, match="1 only under 'qwen_math', 0 only under 'math_verify'"):
        grader_agreement_report(VERDICTS_A, VERDICTS_B.iloc[1:], "qwen_math", "math_verify")
    with pytest.raises(ValueError, match="duplicate samples"):
        grader_agreement_report(pd.concat([VERDICTS_A, VERDICTS_A.iloc[:1]]), VERDICTS_B, "qwen_math", "math_verify")
    other_reference = VERDICTS_B.assign(reference="0")
    with pytest.raises(ValueError, match="reference answers"):
        grader_agreement_report(VERDICTS_A, other_reference, "qwen_math", "math_verify")


def test_write_report_writes_csv_tables_and_a_markdown_summary(report, tmp_path):
    settings = [{"grader": "math_verify", "n": 8, "temperature": 0.6, "top_p": 0.95, "max_new_tokens": 512}]
    written = write_report(report, tmp_path / "out", title="tiny-model, gsm8k", settings=settings)
    assert written["markdown"] == tmp_path / "out" / "summary.md"
    assert written["disagreements"] == tmp_path / "out" / "disagreements.csv"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        ["summary.md", "summary.csv", "status_crosstab.csv", "disagreements.csv", "pass_at_k.csv", "coverage.csv",
         "causes.csv"])
    back = pd.read_csv(written["disagreements"], dtype=str)
    pd.testing.assert_frame_equal(back, report["disagreements"].astype(str), check_dtype=False)
    markdown = written["markdown"].read_text()
    assert markdown.startswith("# Grader agreement: qwen_math vs math_verify (tiny-model, gsm8k; n = 8, temperature 0.6, "
                               "top-p 0.95, max 512 new tokens)")
    # the pass@k table: fractions of 1 in the CSV and, saying so, in the Markdown
    assert "## pass@k (mean over problems, as a fraction of 1)" in markdown
    first = pd.read_csv(written["pass_at_k"]).iloc[0]
    assert f"{first.iloc[-1]:.4f}" in markdown and first.iloc[-1] <= 1
    assert "agree on correctness for 10 samples (83.33%) and disagree on 2" in markdown
    assert "| p1 | 1 | 42 | wrong | correct | 42.0 apples | 42.0 | other |" in markdown
    assert "## Disagreements by the rule of the paper's grader behind them" in markdown
