"""The paper's manual check for guessing: the correct responses on hard problems, as an HTML sheet for a person to
judge, one page per model x benchmark (`results/review/{model}/{benchmark}.html`, rule review_sheet), and the table
of those judgements (`results/tables/review/{model}/{benchmark}.csv` and `.md`, rule review_table).

A problem is hard for a model when it solved it in at most `max_solve_rate` of its samples (and at least once): a
right final answer there is the likeliest to be a lucky guess or to follow flawed reasoning. For each such problem
the page shows the question, the reference and up to `responses_per_problem` correct responses (lowest sample index
first) with the answer the grader extracted, and per response a judgement (sound / flawed or guessed / unclear) and
a note. The page is one self-contained file that works offline from file://: LaTeX is rendered by the KaTeX copy
in `vendor/katex` (inlined, fonts as data URIs), judgements are kept in the browser's localStorage under the
sheet's model, benchmark and content digest (a regenerated sheet with other responses starts empty), and a button
exports them as CSV (problem, sample, judgement, note). Nothing is sent anywhere. The researcher saves that file
as `{analysis.review.judgements_dir}/{model}/{benchmark}.csv`; the workflow reads it back, checked against the
responses the sheet showed (`{benchmark}.responses.csv` beside the sheet), into the table.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from pathlib import Path

import pandas as pd

from rlvr_eval.metrics.tables import settings_heading

# The vendored KaTeX release (vendor/katex, from npm's `katex` package): part of this module's code digest, so a
# new release re-renders every sheet; tests check that it matches the vendored files.
KATEX_VERSION = "0.19.1"
KATEX_DIR = Path(__file__).with_name("vendor") / "katex"

JUDGEMENTS = ("sound", "flawed", "unclear")
LABELS = {"sound": "sound", "flawed": "flawed or guessed", "unclear": "unclear"}
CSV_COLUMNS = ["problem", "sample", "judgement", "note"]  # the sheet's export, read back by read_judgements
SHOWN_COLUMNS = ["problem", "sample", "c", "n"]  # the sheet's responses (`{benchmark}.responses.csv`)

STYLE = """body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}
.text{white-space:pre-wrap;background:#f6f6f6;padding:.6em;border-radius:4px;overflow-x:auto}
section{border-top:2px solid #888;margin-top:2em} .response{border-left:3px solid #4a4;padding-left:1em;margin:1em 0}
.meta{color:#555;font-size:90%} .note{width:30em;max-width:100%}
#toolbar{position:sticky;top:0;background:#fff;border-bottom:1px solid #ccc;padding:.5em 0;z-index:1}
.raw{display:none;font-family:monospace} body.show-raw .raw{display:block} body.show-raw .rendered{display:none}
span.raw{display:none} body.show-raw span.raw{display:inline}"""

# Per response: restore its saved judgement and note, save on every change, count what is judged; export as CSV
# through a Blob link (a download from file:// with no server). The storage key names the sheet's content digest.
SCRIPT = r"""(function () {
  "use strict";
  var body = document.body;
  var key = ["rlvr-eval-review", body.dataset.model, body.dataset.benchmark, body.dataset.digest].join("|");
  var state = {};
  try { state = JSON.parse(localStorage.getItem(key)) || {}; } catch (e) { state = {}; }
  var responses = Array.prototype.slice.call(document.querySelectorAll(".response"));
  function idOf(r) { return r.dataset.problem + "\u0000" + r.dataset.sample; }
  function judged() { return responses.filter(function (r) { var s = state[idOf(r)]; return s && s.judgement; }).length; }
  function showProgress() {
    document.getElementById("progress").textContent = judged() + " of " + responses.length + " responses judged";
  }
  function save() {
    try { localStorage.setItem(key, JSON.stringify(state)); }
    catch (e) { alert("Judgements could not be saved in this browser (" + e + "): export them now."); }
    showProgress();
  }
  responses.forEach(function (r) {
    var saved = state[idOf(r)], note = r.querySelector(".note");
    if (saved) {
      r.querySelectorAll("input[type=radio]").forEach(function (b) { b.checked = b.value === saved.judgement; });
      note.value = saved.note || "";
    }
    function record() {
      var checked = r.querySelector("input[type=radio]:checked");
      if (!checked && !note.value) { delete state[idOf(r)]; }
      else { state[idOf(r)] = {judgement: checked ? checked.value : "", note: note.value}; }
      save();
    }
    r.addEventListener("change", record);
    note.addEventListener("input", record);
  });
  function cell(v) { v = String(v); return /[",\r\n]/.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v; }
  document.getElementById("export").addEventListener("click", function () {
    var lines = ["problem,sample,judgement,note"];
    responses.forEach(function (r) {
      var s = state[idOf(r)];
      if (s) { lines.push([r.dataset.problem, r.dataset.sample, s.judgement, s.note].map(cell).join(",")); }
    });
    var link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([lines.join("\n") + "\n"], {type: "text/csv"}));
    link.download = body.dataset.benchmark + ".csv";
    body.appendChild(link);
    link.click();
    setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
  });
  document.getElementById("show-raw").addEventListener("change", function (e) {
    body.classList.toggle("show-raw", e.target.checked);
  });
  showProgress();
  // LaTeX: each .tex element keeps a raw copy (the "show raw text" switch) and is rendered in place; a formula
  // KaTeX cannot parse stays as its source, in red. Answers (.answer) are formulas without delimiters.
  if (!window.katex) { return; }
  document.querySelectorAll(".tex").forEach(function (el) {
    var raw = document.createElement(el.tagName === "SPAN" ? "span" : "div");
    raw.className = el.classList.contains("text") ? "raw text" : "raw";
    raw.textContent = el.textContent;
    el.classList.add("rendered");
    el.parentNode.insertBefore(raw, el.nextSibling);
    if (el.classList.contains("answer")) {
      katex.render(el.textContent, el, {throwOnError: false});
    } else {
      renderMathInElement(el, {throwOnError: false, delimiters: [
        {left: "$$", right: "$$", display: true}, {left: "\\[", right: "\\]", display: true},
        {left: "\\(", right: "\\)", display: false}, {left: "$", right: "$", display: false}]});
    }
  });
})();"""


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


def shown_responses(rows: pd.DataFrame) -> pd.DataFrame:
    """The sheet's responses in its order, as the judgements CSV names them (problem, sample) with the problem's
    c of n: what `read_judgements` checks an export against."""
    return pd.DataFrame({"problem": rows["problem_id"].astype(str), "sample": rows["sample_index"].astype(int),
                         "c": rows["c"].astype(int), "n": rows["n"].astype(int)}, columns=SHOWN_COLUMNS)


def sheet_digest(rows: pd.DataFrame, model: str, benchmark: str) -> str:
    """A digest of what the sheet asks to judge: its judgements are stored in the browser under it."""
    content = [model, benchmark] + [[str(r.problem_id), int(r.sample_index), str(r.text)] for r in rows.itertuples()]
    return hashlib.sha256(json.dumps(content).encode()).hexdigest()[:16]


def _inline_script(source: str) -> str:
    if "</script" in source.lower():
        raise ValueError("a script to inline contains '</script'")
    return f"<script>{source}</script>"


def katex_assets() -> str:
    """KaTeX's stylesheet (fonts as woff2 data URIs) and scripts, with its licence, for the page's head."""
    css = (KATEX_DIR / "katex.min.css").read_text(encoding="utf-8")

    def font(match: re.Match) -> str:
        data = base64.b64encode((KATEX_DIR / "fonts" / f"{match.group(1)}.woff2").read_bytes()).decode()
        return f'src:url(data:font/woff2;base64,{data}) format("woff2")'

    # every src keeps its woff2 only, inlined (every browser that runs the page's script reads woff2)
    css = re.sub(r'src:url\(fonts/([\w-]+)\.woff2\) format\("woff2"\)(?:,url\([^)]*\) format\("[^"]*"\))*', font, css)
    if "url(fonts/" in css:
        raise ValueError(f"{KATEX_DIR / 'katex.min.css'}: a font reference left uninlined")
    licence = (KATEX_DIR / "LICENSE").read_text(encoding="utf-8").replace("--", "- -")
    return (f"<!-- KaTeX {KATEX_VERSION} (https://katex.org), inlined:\n{licence}-->\n<style>{css}</style>\n"
            + _inline_script((KATEX_DIR / "katex.min.js").read_text(encoding="utf-8")) + "\n"
            + _inline_script((KATEX_DIR / "auto-render.min.js").read_text(encoding="utf-8")))


def _answer(value: object) -> str:
    """An answer as a formula where it looks like LaTeX, else as code."""
    text = html.escape(str(value))
    return f"<span class='tex answer'>{text}</span>" if re.search(r"[\\^_{]", str(value)) else f"<code>{text}</code>"


def render_review_sheet(rows: pd.DataFrame, problems: pd.DataFrame, model: str, benchmark: str,
                        max_solve_rate: float, judgements_file: str = "") -> str:
    """The page for `rows` (hard_correct_responses); `judgements_file`: where the researcher saves the export."""
    e = html.escape
    by_id = problems.set_index("problem_id")
    save_as = (f"Save the exported file as <code>{e(judgements_file)}</code> (relative to the workflow's directory); "
               f"the next <code>snakemake</code> run tabulates it in "
               f"<code>results/tables/review/{e(model)}/{e(benchmark)}.md</code>.") if judgements_file else ""
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Review: {e(model)} on {e(benchmark)}</title>",
             f"<style>{STYLE}</style>", katex_assets(), "</head>",
             f"<body data-model='{e(model)}' data-benchmark='{e(benchmark)}' "
             f"data-digest='{sheet_digest(rows, model, benchmark)}'>",
             f"<h1>{e(model)} on {e(benchmark)}: correct responses on hard problems</h1>",
             f"<p>Problems this model solved in at most {100 * max_solve_rate:g} % of its samples (at least once): "
             f"{rows['problem_id'].nunique()} problems, {len(rows)} responses. Read each: is the reasoning sound, or is "
             f"the right answer a guess or the end of flawed reasoning?</p>",
             f"<div id='toolbar'><span id='progress'></span> <button id='export' type='button'>Export judgements "
             f"(CSV)</button> <label><input type='checkbox' id='show-raw'> show raw text</label>"
             f"<p class='meta'>Judgements are kept in this browser until you export them. {save_as}</p></div>"]
    if rows.empty:
        parts.append("<p><em>No problem of this benchmark is hard and solved for this model.</em></p>")
    number = 0
    for pid, group in rows.groupby("problem_id", sort=False):
        problem = by_id.loc[pid]
        c, n = int(group["c"].iloc[0]), int(group["n"].iloc[0])
        parts.append(f"<section><h2>Problem {e(str(pid))}</h2><p class='meta'>solved in {c} of {n} samples; "
                     f"reference: {_answer(problem['reference'])}</p><div class='text tex'>{e(problem['question'])}</div>")
        for r in group.itertuples():
            number += 1
            choices = "".join(f"<label><input type='radio' name='r{number}' value='{v}'> {LABELS[v]}</label> "
                              for v in JUDGEMENTS)
            parts.append(f"<div class='response' data-problem='{e(str(pid))}' data-sample='{int(r.sample_index)}'>"
                         f"<p class='meta'>sample {r.sample_index}; extracted answer: {_answer(r.extracted)}</p>"
                         f"<div class='text tex'>{e(r.text)}</div><p>{choices}"
                         f"<input type='text' class='note' placeholder='note (optional)'></p></div>")
        parts.append("</section>")
    parts.append(_inline_script(SCRIPT))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# --- reading the researcher's judgements back ---------------------------------------------------------------
def read_judgements(path: str | Path, shown: pd.DataFrame) -> pd.DataFrame:
    """The judgements CSV at `path` (the sheet's export: problem, sample, judgement, note), checked against the
    responses the sheet showed (`shown`, shown_responses); one ValueError naming the file and its bad lines."""
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not a CSV of judgements ({err}); export it from the review sheet") from None
    missing = [c for c in CSV_COLUMNS[:3] if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: no column(s) {', '.join(missing)} (columns: {', '.join(map(str, table.columns))}); "
                         f"the sheet exports {', '.join(CSV_COLUMNS)}")
    if "note" not in table:
        table["note"] = ""
    table = table[CSV_COLUMNS]
    on_sheet = set(zip(shown["problem"].astype(str), shown["sample"].astype(int)))
    allowed = "one of " + ", ".join(JUDGEMENTS) + " or empty (not judged)"
    seen, errors = set(), []
    for line, row in zip(range(2, len(table) + 2), table.itertuples(index=False)):  # line 1: the header
        where = f"line {line} (problem {row.problem!r}, sample {row.sample!r})"
        if not row.sample.strip().isdigit():
            errors.append(f"{where}: sample is not a whole number")
            continue
        key = (row.problem, int(row.sample))
        if row.judgement not in (*JUDGEMENTS, ""):
            errors.append(f"{where}: judgement {row.judgement!r} is not {allowed}")
        elif key not in on_sheet:
            errors.append(f"{where}: not a response of this review sheet (exported from another or an older sheet?)")
        elif key in seen:
            errors.append(f"{where}: judged twice")
        seen.add(key)
    if errors:
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        raise ValueError(f"{path}: " + "; ".join(errors[:5]) + more)
    return table.assign(sample=table["sample"].astype(int))


def review_table(judgements: pd.DataFrame, shown: pd.DataFrame) -> pd.DataFrame:
    """Per problem of the sheet (its order: hardest first), then a `total` row: the responses shown, how many are
    judged, and the count and share among those judged of each judgement (share empty where none is judged)."""
    judged = judgements[judgements["judgement"] != ""]
    counts = (pd.crosstab(judged["problem"], judged["judgement"]) if len(judged)
              else pd.DataFrame(index=pd.Index([], name="problem")))
    counts = counts.reindex(columns=list(JUDGEMENTS), fill_value=0)
    problems = shown.groupby("problem", sort=False).agg(c=("c", "first"), n=("n", "first"), shown=("sample", "size"))
    table = problems.join(counts).fillna(0).reset_index()
    total = {"problem": "total", "c": None, "n": None, "shown": table["shown"].sum(),
             **{j: table[j].sum() for j in JUDGEMENTS}}
    table = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
    for column in ("shown", *JUDGEMENTS):
        table[column] = table[column].astype(int)
    table["c"], table["n"] = table["c"].astype("Int64"), table["n"].astype("Int64")
    table.insert(4, "judged", table[list(JUDGEMENTS)].sum(axis=1))
    for j in JUDGEMENTS:
        table[f"{j}_share"] = (table[j] / table["judged"]).where(table["judged"] > 0)
    return table


def review_markdown(table: pd.DataFrame, model: str, benchmark: str, source: str, settings: list[dict] | None = None) -> str:
    """The table in Markdown, the total first; shares as fractions of 1, as in the CSV; `settings`: the grader and
    sampling settings of the responses (planning.table_settings), for the heading."""
    def share(x: float) -> str:
        return "" if pd.isna(x) else f"{x:.2f}"

    def count(n: int, x: float) -> str:
        return f"{n}" if pd.isna(x) else f"{n} ({share(x)})"

    total = table.iloc[-1]
    lines = [f"### Guessing check: {model} on {benchmark}" + (f" ({settings_heading(settings)})" if settings else ""), "",
             f"Judgements of the correct responses on hard problems (`{source}`): {total['judged']} of "
             f"{total['shown']} responses judged: sound {count(total['sound'], total['sound_share'])}, flawed or guessed "
             f"{count(total['flawed'], total['flawed_share'])}, unclear {count(total['unclear'], total['unclear_share'])} "
             f"(shares of the judged responses, as fractions of 1).", "",
             "| problem | solved | shown | judged | sound | flawed or guessed | unclear |", "|---|---:|---:|---:|---:|---:|---:|"]
    for r in table.itertuples():
        solved = "" if pd.isna(r.c) else f"{r.c}/{r.n}"
        name = "**total**" if r.Index == len(table) - 1 else str(r.problem).replace("|", "\\|")
        lines.append(f"| {name} | {solved} | {r.shown} | {r.judged} | {count(r.sound, r.sound_share)} | "
                     f"{count(r.flawed, r.flawed_share)} | {count(r.unclear, r.unclear_share)} |")
    return "\n".join(lines) + "\n"

