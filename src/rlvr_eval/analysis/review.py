"""The paper's manual check for guessing: the correct responses on hard problems, as a static HTML sheet for a person
to read, one page per model x benchmark (`results/review/{model}/{benchmark}.html`, rule review_sheet).

A problem is hard for a model when it solved it in at most `max_solve_rate` of its samples (and at least once): a
right final answer there is the likeliest to be a lucky guess or to follow flawed reasoning. For each such problem
the page shows the question, the reference and up to `responses_per_problem` correct responses (lowest sample index
first) with the answer the grader extracted, and a choice per response (sound / flawed or guessed / unclear) for
the reader; the page has no script and sends nothing anywhere.
"""

from __future__ import annotations

import html

import pandas as pd

STYLE = """body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}
pre{white-space:pre-wrap;background:#f6f6f6;padding:.6em;border-radius:4px}
section{border-top:2px solid #888;margin-top:2em} .response{border-left:3px solid #4a4;padding-left:1em;margin:1em 0}
.meta{color:#555;font-size:90%}"""


def hard_correct_responses(per_problem: pd.DataFrame, verdicts: pd.DataFrame, samples: pd.DataFrame,
                           max_solve_rate: float, responses_per_problem: int) -> pd.DataFrame:
    """One row per response to show: problem_id, c, n, sample_index, extracted, text; problems hardest first."""
    hard = per_problem[(per_problem["c"] > 0) & (per_problem["c"] <= max_solve_rate * per_problem["n"])]
    right = verdicts[verdicts["correct"] & verdicts["problem_id"].isin(hard["problem_id"])]
    rows = right.merge(samples[["problem_id", "sample_index", "text"]], on=["problem_id", "sample_index"], how="left")
    if rows["text"].isna().any():
        missing = rows.loc[rows["text"].isna(), ["problem_id", "sample_index"]].values.tolist()[:3]
        raise ValueError(f"verdicts without their sample (problem_id, sample_index): {missing}")
    rows = rows.sort_values(["problem_id", "sample_index"]).groupby("problem_id").head(responses_per_problem)
    rows = rows.merge(hard[["problem_id", "c", "n"]], on="problem_id")
    rows["rate"] = rows["c"] / rows["n"]
    return rows.sort_values(["rate", "problem_id", "sample_index"])[
        ["problem_id", "c", "n", "sample_index", "extracted", "text"]].reset_index(drop=True)


def render_review_sheet(rows: pd.DataFrame, problems: pd.DataFrame, model: str, benchmark: str,
                        max_solve_rate: float) -> str:
    e = html.escape
    by_id = problems.set_index("problem_id")
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Review: {e(model)} on {e(benchmark)}</title>",
             f"<style>{STYLE}</style></head><body>",
             f"<h1>{e(model)} on {e(benchmark)}: correct responses on hard problems</h1>",
             f"<p>Problems this model solved in at most {100 * max_solve_rate:g} % of its samples (at least once): "
             f"{rows['problem_id'].nunique()} problems, {len(rows)} responses. Read each: is the reasoning sound, or is "
             f"the right answer a guess or the end of flawed reasoning?</p>"]
    if rows.empty:
        parts.append("<p><em>No problem of this benchmark is hard and solved for this model.</em></p>")
    for pid, group in rows.groupby("problem_id", sort=False):
        problem = by_id.loc[pid]
        c, n = int(group["c"].iloc[0]), int(group["n"].iloc[0])
        parts.append(f"<section><h2>Problem {e(str(pid))}</h2><p class='meta'>solved in {c} of {n} samples; "
                     f"reference: <code>{e(str(problem['reference']))}</code></p><pre>{e(problem['question'])}</pre>")
        for r in group.itertuples():
            name = f"{pid}-{r.sample_index}"
            choices = "".join(f"<label><input type='radio' name='{e(name)}' value='{v}'> {v}</label> "
                              for v in ("sound", "flawed or guessed", "unclear"))
            parts.append(f"<div class='response'><p class='meta'>sample {r.sample_index}; extracted answer: "
                         f"<code>{e(str(r.extracted))}</code></p><pre>{e(r.text)}</pre><p>{choices}</p></div>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
