"""The guessing check's review sheet: which responses it shows, and a page a browser renders as text."""

import pandas as pd

from rlvr_eval.analysis.review import hard_correct_responses, render_review_sheet


def test_correct_responses_on_hard_problems_only_hardest_first():
    per_problem = pd.DataFrame({"problem_id": ["easy", "hard", "harder", "unsolved"], "n": 10, "c": [6, 2, 1, 0]})
    verdicts = pd.DataFrame([(p, i, p == "easy" or (p == "hard" and i in (7, 3, 5)) or (p == "harder" and i == 4))
                             for p in per_problem["problem_id"] for i in range(10)],
                            columns=["problem_id", "sample_index", "correct"]).assign(extracted="42")
    samples = verdicts[["problem_id", "sample_index"]].assign(text=lambda d: d["problem_id"] + "#" + d["sample_index"].astype(str))
    rows = hard_correct_responses(per_problem, verdicts, samples, max_solve_rate=0.2, responses_per_problem=2)
    # "easy" is solved too often, "unsolved" never; "harder" (1/10) comes before "hard" (2/10), 2 responses at most
    assert rows[["problem_id", "sample_index", "text"]].values.tolist() == [
        ["harder", 4, "harder#4"], ["hard", 3, "hard#3"], ["hard", 5, "hard#5"]]


def test_the_page_escapes_questions_and_responses():
    problems = pd.DataFrame({"problem_id": ["p1"], "question": ["Is 1 < 2 & 3 > 2?"], "reference": ["<yes>"]})
    rows = pd.DataFrame({"problem_id": ["p1"], "c": [1], "n": [8], "sample_index": [5], "extracted": ["yes"],
                         "text": ["<script>alert(1)</script> so \\boxed{yes}"]})
    page = render_review_sheet(rows, problems, "tiny-rl", "gsm8k", 0.125)
    assert "Is 1 &lt; 2 &amp; 3 &gt; 2?" in page and "&lt;script&gt;" in page and "<script>" not in page
    assert "solved in 1 of 8 samples" in page and "at most 12.5 %" in page and "sample 5" in page
    empty = render_review_sheet(rows.iloc[:0], problems, "tiny-rl", "gsm8k", 0.125)
    assert "No problem of this benchmark is hard and solved" in empty
