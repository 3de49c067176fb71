"""The guessing check end to end, with the real Snakemake: a review sheet of imported responses is judged in
headless Chromium (judgements kept across a reload, exported as CSV through the page's button), the export is
saved where the sheet says and the next run reads it back into the table. A run with nothing reviewed yet plans no
table and fails nothing; a bad file stops the table with an error naming its line."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from workflow_helpers import copy_run, copy_workflow, demo_config, failed_jobs, planned_rules, snakemake

pytestmark = pytest.mark.slow

# Per problem, 4 responses: right (with a formula), wrong, right (a bare guess), wrong: solved in 2 of 4
RESPONSES = ["Half of {r} is $\\frac{{{r}}}{{2}}$, so the answer is \\boxed{{{r}}}.", "\\boxed{{0}}",
             "A guess: \\boxed{{{r}}}", "\\boxed{{1}}"]
JUDGEMENTS_DIR = "judged"  # analysis.review.judgements_dir, not the default `reviews`
SHEET, SHOWN = "results/review/elsewhere/gsm8k.html", "results/review/elsewhere/gsm8k.responses.csv"
SAVE_AS, TABLE = f"{JUDGEMENTS_DIR}/elsewhere/gsm8k.csv", "results/tables/review/elsewhere/gsm8k.csv"


@pytest.fixture(scope="module")
def reviewed_run(tmp_path_factory, mirror):
    """Responses of two 'models' imported (the paper code's format), three GSM8K problems, a pair so the
    workflow is complete; the review sheet of `elsewhere`, every problem hard (solved in at most half)."""
    from rlvr_eval.data.benchmarks import load_benchmark

    work = tmp_path_factory.mktemp("review")
    problems = load_benchmark("gsm8k", mirror, limit=3)[0]
    responses = work / "responses.jsonl"
    responses.write_text("".join(json.dumps({"idx": i, "question": q, "code": [t.format(r=ref) for t in RESPONSES]}) + "\n"
                                 for i, (q, ref) in enumerate(zip(problems["question"], problems["reference"]))))
    config = demo_config()
    config["models"] = {m: {"responses": {"gsm8k": str(responses)}, "role": role, "prompt_template": "qwen-boxed"}
                        for m, role in (("elsewhere-base", "base"), ("elsewhere", "rl"))}
    config["pairs"] = [{"name": "imported", "base": "elsewhere-base", "rl": "elsewhere"}]
    config["benchmarks"] = {"gsm8k": {"n": 4, "limit": 3}}
    config["verification"]["compare_graders"] = []
    config["analysis"]["perplexity"] = {"enabled": False}  # imported responses: no weights to score them
    config["analysis"]["review"] = {"enabled": True, "max_solve_rate": 0.5, "responses_per_problem": 2,
                                    "models": ["elsewhere"], "judgements_dir": JUDGEMENTS_DIR}
    copy_workflow(work / "wf", config)
    snakemake(work / "wf")
    return work / "wf"


@pytest.fixture()
def run(reviewed_run, tmp_path):
    return copy_run(reviewed_run, tmp_path / "run")


def test_with_nothing_reviewed_there_is_no_table_and_a_saved_file_is_planned(run):
    assert (run / SHEET).is_file() and not (run / "results/tables/review").exists()
    shown = pd.read_csv(run / SHOWN, dtype={"problem": str})
    assert shown.values.tolist() == [[p, s, 2, 4] for p in ("0", "1", "2") for s in (0, 2)]  # the right ones
    assert f"Save the exported file as <code>{SAVE_AS}</code>" in (run / SHEET).read_text()
    (run / SAVE_AS).parent.mkdir(parents=True)
    (run / SAVE_AS).write_text("problem,sample,judgement,note\n0,0,sound,\n")
    assert planned_rules(run) == {"review_table": 1}  # the new file, and nothing else to redo


# `browser` first: where it skips, the workflow does not run for nothing
def test_judgements_persist_in_the_browser_and_the_export_becomes_the_table(browser, run, tmp_path):
    from selenium.webdriver.common.by import By

    driver = browser.driver

    def response(problem: str, sample: int):
        return driver.find_element(By.CSS_SELECTOR, f".response[data-problem='{problem}'][data-sample='{sample}']")

    def progress() -> str:
        return driver.find_element(By.ID, "progress").text

    browser.open(run / SHEET)
    # LaTeX rendered by the inlined KaTeX, with its fonts loaded from the page itself (no network)
    formula = response("0", 0).find_element(By.CSS_SELECTOR, ".katex .mfrac")
    assert formula.is_displayed() and "$" not in response("0", 0).find_element(By.CSS_SELECTOR, ".rendered").text
    fonts = driver.execute_async_script("var done = arguments[0]; document.fonts.ready.then(function () {"
                                        " done(Array.from(document.fonts).filter(function (f) {"
                                        " return f.status === 'loaded'; }).map(function (f) { return f.family; })); });")
    assert "KaTeX_Main" in fonts and "KaTeX_Math" in fonts
    assert progress() == "0 of 6 responses judged"
    driver.find_element(By.ID, "show-raw").click()  # the text as sampled, in place of the rendered one
    raw = response("0", 0).find_element(By.CSS_SELECTOR, ".raw")
    assert raw.is_displayed() and "$\\frac{18}{2}$" in raw.text and not formula.is_displayed()
    driver.find_element(By.ID, "show-raw").click()

    response("0", 0).find_element(By.CSS_SELECTOR, "input[value='sound']").click()
    response("0", 2).find_element(By.CSS_SELECTOR, "input[value='flawed']").click()
    response("0", 2).find_element(By.CSS_SELECTOR, ".note").send_keys('no reasoning, "a guess"')
    response("1", 0).find_element(By.CSS_SELECTOR, "input[value='sound']").click()
    response("1", 0).find_element(By.CSS_SELECTOR, "input[value='unclear']").click()  # changed its mind
    response("2", 2).find_element(By.CSS_SELECTOR, ".note").send_keys("look again")  # a note, no judgement yet
    assert progress() == "3 of 6 responses judged"

    driver.refresh()  # kept by the browser
    assert progress() == "3 of 6 responses judged"
    assert response("0", 2).find_element(By.CSS_SELECTOR, "input[value='flawed']").is_selected()
    assert response("1", 0).find_element(By.CSS_SELECTOR, "input[value='unclear']").is_selected()
    assert response("0", 2).find_element(By.CSS_SELECTOR, ".note").get_attribute("value") == 'no reasoning, "a guess"'

    # a sheet with other content (here: another digest) does not pick up these judgements
    page = (run / SHEET).read_text()
    other = tmp_path / "other" / "gsm8k.html"
    other.parent.mkdir()
    other.write_text(re.sub(r"data-digest='\w+'", "data-digest='0123456789abcdef'", page, count=1))
    browser.open(other)
    assert progress() == "0 of 6 responses judged" and not driver.find_elements(By.CSS_SELECTOR, "input:checked")

    browser.open(run / SHEET)
    driver.find_element(By.ID, "export").click()
    exported = browser.downloaded("gsm8k.csv")
    assert pd.read_csv(exported, dtype=str, keep_default_na=False).values.tolist() == [
        ["0", "0", "sound", ""], ["0", "2", "flawed", 'no reasoning, "a guess"'], ["1", "0", "unclear", ""],
        ["2", "2", "", "look again"]]

    (run / SAVE_AS).parent.mkdir(parents=True)
    (run / SAVE_AS).write_bytes(exported.read_bytes())
    snakemake(run)
    table = pd.read_csv(run / TABLE, dtype={"problem": str}).set_index("problem")
    assert table[["shown", "judged", "sound", "flawed", "unclear"]].values.tolist() == [
        [2, 2, 1, 1, 0], [2, 1, 0, 0, 1], [2, 0, 0, 0, 0], [6, 3, 1, 1, 1]]
    assert table.loc["total", "sound_share"] == pytest.approx(1 / 3)
    assert "3 of 6 responses judged" in (run / TABLE.replace(".csv", ".md")).read_text()


def test_a_bad_judgements_file_stops_the_table_naming_its_line_and_an_edit_reruns_it(run):
    (run / SAVE_AS).parent.mkdir(parents=True)
    (run / SAVE_AS).write_text("problem,sample,judgement,note\n0,0,sound,\n0,2,good,\n7,1,flawed,\n")
    proc = snakemake(run, check=False)
    assert proc.returncode != 0 and not (run / TABLE).exists()
    log = failed_jobs(run, proc.stderr)
    assert f"{SAVE_AS}: line 3 (problem '0', sample '2'): judgement 'good' is not one of sound, flawed, unclear" in log
    assert "line 4 (problem '7', sample '1'): not a response of this review sheet" in log

    (run / SAVE_AS).write_text("problem,sample,judgement,note\n0,0,sound,\n0,2,flawed,\n")
    snakemake(run)
    assert pd.read_csv(run / TABLE)["flawed"].tolist() == [1, 0, 0, 1]
    (run / SAVE_AS).write_text("problem,sample,judgement,note\n0,0,sound,\n0,2,sound,\n")  # judged again
    snakemake(run)
    assert pd.read_csv(run / TABLE)["sound"].tolist() == [2, 0, 0, 2]
