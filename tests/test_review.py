"""The guessing check's review sheet: which responses it shows, a self-contained page (escaped text, KaTeX and its
fonts inlined), and the researcher's exported judgements read back into the table (tests/test_review_workflow.py
runs it all with Snakemake and a headless browser)."""

import io
import re
from html.parser import HTMLParser

import pandas as pd
import pytest

from rlvr_eval.analysis.review import (KATEX_DIR, KATEX_VERSION, hard_correct_responses, read_judgements,
                                       render_review_sheet, review_markdown, review_table, shown_responses)
from rlvr_eval.planning.config import validate_config
from rlvr_eval.planning.grid import Grid
from rlvr_eval.planning.review_files import judgements_file, review_tables
from workflow_helpers import demo_config


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


PROBLEMS = pd.DataFrame({"problem_id": ["p1", "p2"], "question": ["Is 1 < 2 & 3 > 2?", "What is $\\frac{1}{2} + 1$?"],
                         "reference": ["<yes>", "\\frac{3}{2}"]})
ROWS = pd.DataFrame({"problem_id": ["p1", "p2", "p2"], "c": [1, 2, 2], "n": [8, 8, 8], "sample_index": [5, 0, 3],
                     "extracted": ["yes", "\\frac{3}{2}", "3/2"],
                     "text": ["<script>alert(1)</script> so \\boxed{yes}", "$\\frac{3}{2}$", "guess: 3/2"]})


def test_the_page_escapes_questions_and_responses():
    page = render_review_sheet(ROWS, PROBLEMS, "tiny-rl", "gsm8k", 0.125, "reviews/tiny-rl/gsm8k.csv")
    assert "Is 1 &lt; 2 &amp; 3 &gt; 2?" in page and "&lt;script&gt;alert(1)" in page and "<script>alert" not in page
    assert "solved in 1 of 8 samples" in page and "at most 12.5 %" in page and "sample 5" in page
    assert "Save the exported file as <code>reviews/tiny-rl/gsm8k.csv</code>" in page
    empty = render_review_sheet(ROWS.iloc[:0], PROBLEMS, "tiny-rl", "gsm8k", 0.125)
    assert "No problem of this benchmark is hard and solved" in empty


def addresses(page: str) -> list[tuple[str, str]]:
    """(tag, address) of every element of the page with a src or href (scripts' text is not parsed as tags)."""
    found = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.extend((tag, value) for name, value in attrs if name in ("src", "href"))

    Parser().feed(page)
    return found


def test_the_page_is_self_contained_and_its_storage_key_follows_its_content():
    page = render_review_sheet(ROWS, PROBLEMS, "tiny-rl", "gsm8k", 0.125)
    # nothing loaded from elsewhere: no element that points at a file or address, every KaTeX font a data URI
    assert addresses(page) == [] and "url(fonts/" not in page
    assert page.count("url(data:font/woff2;base64,") == len(list((KATEX_DIR / "fonts").glob("*.woff2"))) == 20
    assert f"KaTeX {KATEX_VERSION}" in page and "Khan Academy" in page  # its MIT licence travels with it
    assert len(page) < 1_000_000  # KaTeX and its fonts: about 650 kB per page

    def digest(rows):
        return re.search(r"data-digest='(\w+)'", render_review_sheet(rows, PROBLEMS, "tiny-rl", "gsm8k", 0.125)).group(1)

    other_text = ROWS.assign(text=ROWS["text"].str.replace("guess", "a guess"))
    assert digest(ROWS) == digest(ROWS.copy()) != digest(other_text)


def test_the_vendored_katex_is_the_declared_release():
    assert f'version:"{KATEX_VERSION}"' in (KATEX_DIR / "katex.min.js").read_text()
    assert "The MIT License" in (KATEX_DIR / "LICENSE").read_text()


SHOWN = shown_responses(ROWS)


def judgements(text: str) -> pd.DataFrame:
    return read_judgements(io.StringIO(text), SHOWN)


def test_the_table_counts_and_shares_the_judged_responses_per_problem_and_in_total():
    exported = 'problem,sample,judgement,note\np2,0,sound,\np2,3,flawed,"guessed, then ""checked"""\np1,5,,look again\n'
    table = review_table(judgements(exported), SHOWN)
    assert table.columns.tolist() == ["problem", "c", "n", "shown", "judged", "sound", "flawed", "unclear",
                                      "sound_share", "flawed_share", "unclear_share"]
    assert table[["problem", "shown", "judged", "sound", "flawed", "unclear"]].values.tolist() == [
        ["p1", 1, 0, 0, 0, 0], ["p2", 2, 2, 1, 1, 0], ["total", 3, 2, 1, 1, 0]]
    assert table["sound_share"].tolist()[1:] == [0.5, 0.5] and pd.isna(table.loc[0, "sound_share"])  # p1: none judged
    settings = [{"grader": "math_verify", "n": 8, "temperature": 0.6, "top_p": 0.95, "max_new_tokens": 24}]
    markdown = review_markdown(table, "tiny-rl", "gsm8k", "reviews/tiny-rl/gsm8k.csv", settings)
    assert markdown.startswith("### Guessing check: tiny-rl on gsm8k (grader math_verify; n = 8, temperature 0.6, top-p "
                               "0.95, max 24 new tokens)")
    assert "2 of 3 responses judged: sound 1 (0.50), flawed or guessed 1 (0.50), unclear 0 (0.00)" in markdown
    assert "(shares of the judged responses, as fractions of 1)" in markdown  # the CSV's unit
    assert "| p2 | 2/8 | 2 | 2 | 1 (0.50) | 1 (0.50) | 0 (0.00) |" in markdown and "| p1 | 1/8 | 1 | 0 | 0 | 0 | 0 |" in markdown


@pytest.mark.parametrize("text, message", [
    ("problem,sample,judgement,note\np1,5,sound,\np2,0,good,\n",
     "line 3 (problem 'p2', sample '0'): judgement 'good' is not one of sound, flawed, unclear or empty"),
    ("problem,sample,judgement,note\np2,7,sound,\n", "line 2 (problem 'p2', sample '7'): not a response of this review sheet"),
    ("problem,sample,judgement,note\np2,x,sound,\n", "line 2 (problem 'p2', sample 'x'): sample is not a whole number"),
    ("problem,sample,judgement,note\np2,0,sound,\np2,0,flawed,\n", "line 3 (problem 'p2', sample '0'): judged twice"),
    ("problem,verdict\np2,sound\n", "no column(s) sample, judgement (columns: problem, verdict)"),
    ("", "not a CSV of judgements"),
])
def test_a_bad_judgements_file_is_one_error_naming_the_file_and_line(tmp_path, text, message):
    path = tmp_path / "gsm8k.csv"
    path.write_text(text)
    with pytest.raises(ValueError) as err:
        read_judgements(path, SHOWN)
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value)


def test_a_table_is_planned_for_each_judgements_file_present(tmp_path, monkeypatch):
    config = demo_config()
    config["analysis"]["review"] = {"enabled": True, "models": ["tiny-rl"]}
    monkeypatch.chdir(tmp_path)
    grid = Grid(validate_config(config))
    assert judgements_file(grid, "tiny-rl", "gsm8k") == "reviews/tiny-rl/gsm8k.csv"  # the default place
    assert review_tables(grid) == []  # not reviewed yet: nothing to tabulate, nothing fails
    (tmp_path / "reviews/tiny-rl").mkdir(parents=True)
    (tmp_path / "reviews/tiny-rl/gsm8k.csv").write_text("problem,sample,judgement,note\n")
    assert review_tables(grid) == ["results/tables/review/tiny-rl/gsm8k.csv", "results/tables/review/tiny-rl/gsm8k.md"]
    assert set(review_tables(grid)) <= set(grid.targets())
    config["analysis"]["review"]["judgements_dir"] = "judged/by-me/"
    assert judgements_file(Grid(validate_config(config)), "tiny-rl", "math500") == "judged/by-me/tiny-rl/math500.csv"
