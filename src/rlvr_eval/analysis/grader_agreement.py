"""The same samples verified by two graders, compared: how often they agree, where they differ,
and what the difference does to pass@k and to coverage (problems solved at k = n).

Two samples "agree" when both graders call them correct or both call them not correct: that is
what pass@k sees. The status crosstab shows finer differences (wrong vs no_answer, timeouts).

When one grader is qwen_math (the paper's rules), each disagreement gets a `cause`: the rule of the
paper's grader behind it (rlvr_eval.verify.qwen_math_grader.CAUSES: list rule, "and", left side,
case, tolerance, percent, units, mixed number, parse failure, …; "deadline" for a timeout, "grader
error" where a grader raised, e.g. on a reference it cannot read), and the
`causes` table says per cause how many samples it flips each way and how much it moves pass@k:
`shift_pass@k` is qwen_math's pass@k minus the pass@k it would have if the other grader decided
those samples.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from rlvr_eval.io import write_text
from rlvr_eval.metrics.tables import settings_heading
from rlvr_eval.metrics.passk import default_ks, mean_pass_at_k, per_problem_counts, per_problem_pass_at_k
from rlvr_eval.verify.graders import STATUSES
from rlvr_eval.verify.qwen_math_causes import CAUSES, disagreement_cause

PAPER_GRADER = "qwen_math"

KEY = ["problem_id", "sample_index"]
REQUIRED_COLUMNS = KEY + ["status", "correct", "extracted", "reference"]
MARKDOWN_DISAGREEMENT_ROWS = 20


def _checked(verdicts: pd.DataFrame, name: str) -> pd.DataFrame:
    missing = [c for c in REQUIRED_COLUMNS if c not in verdicts.columns]
    if missing:
        raise ValueError(f"verdicts of grader {name!r} lack columns {missing}")
    duplicated = verdicts.duplicated(KEY)
    if duplicated.any():
        first = verdicts.loc[duplicated, KEY].iloc[0].tolist()
        raise ValueError(f"verdicts of grader {name!r} hold {int(duplicated.sum())} duplicate samples, e.g. {first}")
    out = verdicts[REQUIRED_COLUMNS].copy()
    return out.astype({"problem_id": str, "sample_index": int, "correct": bool})


def grader_agreement_report(verdicts_a: pd.DataFrame, verdicts_b: pd.DataFrame, name_a: str, name_b: str,
                            samples: pd.DataFrame | None = None, ks: list[int] | None = None,
                            benchmark: str = "") -> dict[str, pd.DataFrame]:
    """Compare two verdict tables of the same samples (schema in rlvr_eval.verify.graders).

    `samples` (problem_id, sample_index, text) adds the response text to the disagreements; `ks`
    defaults to 1, 2, 4, … up to the smallest number of samples of any problem.
    Returns DataFrames: summary (one row), status_crosstab, disagreements, pass_at_k, coverage, and
    causes (empty unless one grader is qwen_math; `benchmark` is passed to its normalization).
    """
    if name_a == name_b:
        raise ValueError(f"the two graders need different names, got {name_a!r} twice")
    a, b = _checked(verdicts_a, name_a), _checked(verdicts_b, name_b)
    joined = a.merge(b, on=KEY, how="outer", suffixes=("_a", "_b"), indicator=True)
    unmatched = joined[joined["_merge"] != "both"]
    if len(unmatched):
        only_a = int((unmatched["_merge"] == "left_only").sum())
        raise ValueError(f"the verdict tables cover different samples: {only_a} only under {name_a!r}, "
                         f"{len(unmatched) - only_a} only under {name_b!r}")
    if joined.empty:
        raise ValueError("the verdict tables hold no samples")
    if (joined["reference_a"] != joined["reference_b"]).any():
        raise ValueError("the verdict tables disagree on reference answers: different benchmark data?")
    joined = joined.drop(columns=["_merge", "reference_b"]).rename(columns={"reference_a": "reference"})
    joined = joined.sort_values(KEY, kind="stable").reset_index(drop=True)

    agree = joined["correct_a"] == joined["correct_b"]
    summary = pd.DataFrame([{
        "grader_a": name_a,
        "grader_b": name_b,
        "problems": joined["problem_id"].nunique(),
        "samples": len(joined),
        "agree": int(agree.sum()),
        "disagree": int((~agree).sum()),
        "agreement": float(agree.mean()) if len(joined) else float("nan"),
        f"correct_only_{name_a}": int((joined["correct_a"] & ~joined["correct_b"]).sum()),
        f"correct_only_{name_b}": int((joined["correct_b"] & ~joined["correct_a"]).sum()),
        "status_differs": int((joined["status_a"] != joined["status_b"]).sum()),
    }])

    statuses = list(STATUSES) + sorted((set(joined["status_a"]) | set(joined["status_b"])) - set(STATUSES))
    crosstab = (pd.crosstab(joined["status_a"], joined["status_b"])
                .reindex(index=statuses, columns=statuses, fill_value=0).astype(int))
    crosstab.index.name, crosstab.columns.name = name_a, name_b

    disagreements = joined.loc[~agree, KEY + ["reference", "status_a", "status_b", "extracted_a", "extracted_b"]]
    disagreements = disagreements.rename(columns={
        "status_a": f"status_{name_a}", "status_b": f"status_{name_b}",
        "extracted_a": f"extracted_{name_a}", "extracted_b": f"extracted_{name_b}"})
    if samples is not None:
        texts = samples[KEY + ["text"]].astype({"problem_id": str, "sample_index": int})
        disagreements = disagreements.merge(texts, on=KEY, how="left")
    disagreements = disagreements.reset_index(drop=True)

    counts_a = per_problem_counts(joined.rename(columns={"correct_a": "correct"}))
    counts_b = per_problem_counts(joined.rename(columns={"correct_b": "correct"}))
    n_min = int(counts_a["n"].min())
    ks = ks or default_ks(n_min)
    pass_a = mean_pass_at_k(per_problem_pass_at_k(counts_a, ks), ks)
    pass_b = mean_pass_at_k(per_problem_pass_at_k(counts_b, ks), ks)
    pass_at_k = pd.DataFrame({"k": ks, name_a: pass_a.to_numpy(), name_b: pass_b.to_numpy()})
    pass_at_k[f"{name_b} - {name_a}"] = pass_at_k[name_b] - pass_at_k[name_a]

    solved_a = set(counts_a.loc[counts_a["c"] > 0, "problem_id"])
    solved_b = set(counts_b.loc[counts_b["c"] > 0, "problem_id"])
    problems = len(counts_a)
    coverage = pd.DataFrame({
        "grader": [name_a, name_b],
        "problems": [problems, problems],
        "solved": [len(solved_a), len(solved_b)],
        "coverage": [len(solved_a) / problems, len(solved_b) / problems],
        "solved_only_by_this_grader": [len(solved_a - solved_b), len(solved_b - solved_a)],
    })
    report = {"summary": summary, "status_crosstab": crosstab, "disagreements": disagreements,
              "pass_at_k": pass_at_k, "coverage": coverage}
    report["causes"] = (_causes(joined, agree, report, name_a, name_b, ks, benchmark)
                        if PAPER_GRADER in (name_a, name_b) else pd.DataFrame(columns=["cause", "samples"]))
    return report


def _cause(row: pd.Series, paper: str, other: str) -> str:
    for status in ("timeout", "error"):
        if status in (row[f"status_{paper}"], row[f"status_{other}"]):
            return {"timeout": "deadline", "error": "grader error"}[status]
    return disagreement_cause(row[f"extracted_{paper}"], row["reference"], row[f"extracted_{other}"], row["benchmark"])


def _causes(joined: pd.DataFrame, agree: pd.Series, report: dict, name_a: str, name_b: str, ks: list[int],
            benchmark: str) -> pd.DataFrame:
    """Adds `cause` to report["disagreements"]; returns the per-cause table."""
    paper, other = (name_a, name_b) if name_a == PAPER_GRADER else (name_b, name_a)
    side = {name_a: "a", name_b: "b"}
    disagreements = report["disagreements"]
    disagreements["cause"] = [_cause(row, paper, other) for _, row in disagreements.assign(benchmark=benchmark).iterrows()]
    causes_by_key = dict(zip(zip(disagreements["problem_id"], disagreements["sample_index"]), disagreements["cause"]))
    row_cause = pd.Series([causes_by_key.get(key) for key in zip(joined["problem_id"], joined["sample_index"])],
                          index=joined.index)
    paper_correct, other_correct = joined[f"correct_{side[paper]}"], joined[f"correct_{side[other]}"]
    paper_pass = report["pass_at_k"][paper].to_numpy()
    rows = []
    for cause in [*CAUSES, "deadline", "grader error"]:
        mask = (row_cause == cause) & ~agree
        if not mask.any():
            continue
        replaced = joined.assign(correct=paper_correct.where(~mask, other_correct))
        counts = per_problem_counts(replaced)
        replaced_pass = mean_pass_at_k(per_problem_pass_at_k(counts, ks), ks).to_numpy()
        row = {"cause": cause, "samples": int(mask.sum()),
               f"correct_only_{paper}": int((mask & paper_correct).sum()),
               f"correct_only_{other}": int((mask & other_correct).sum())}
        row.update({f"shift_pass@{k}": float(p - r) for k, p, r in zip(ks, paper_pass, replaced_pass)})
        rows.append(row)
    return pd.DataFrame(rows, columns=["cause", "samples", f"correct_only_{paper}", f"correct_only_{other}",
                                       *[f"shift_pass@{k}" for k in ks]])


def _markdown_table(df: pd.DataFrame, index: bool = False, max_cell: int = 80) -> str:
    if index:
        df = df.reset_index()

    def cell(value) -> str:
        if isinstance(value, float):
            text = f"{value:.4f}"
        else:
            text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
        text = text.replace("\n", " ").replace("|", "\\|")
        return text if len(text) <= max_cell else text[: max_cell - 1] + "…"

    header = "| " + " | ".join(cell(str(c)) for c in df.columns) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


def report_markdown(report: dict[str, pd.DataFrame], title: str | None = None, settings: list[dict] | None = None) -> str:
    """The comparison in Markdown; `settings`: the sampling settings of the samples (planning.table_settings)."""
    if settings:
        title = "; ".join(filter(None, [title, settings_heading(settings, with_grader=False)]))
    summary = report["summary"].iloc[0]
    name_a, name_b = summary["grader_a"], summary["grader_b"]
    disagreements = report["disagreements"]
    shown = disagreements.head(MARKDOWN_DISAGREEMENT_ROWS)
    lines = [
        f"# Grader agreement: {name_a} vs {name_b}" + (f" ({title})" if title else ""),
        "",
        f"{summary['samples']} samples of {summary['problems']} problems. The graders agree on correctness for "
        f"{summary['agree']} samples ({summary['agreement']:.2%}) and disagree on {summary['disagree']}: "
        f"{summary[f'correct_only_{name_a}']} correct only under {name_a}, "
        f"{summary[f'correct_only_{name_b}']} correct only under {name_b}. "
        f"Statuses differ for {summary['status_differs']} samples.",
        "",
        f"## Statuses (rows: {name_a}, columns: {name_b})",
        "",
        _markdown_table(report["status_crosstab"], index=True),
        "",
        "## pass@k (mean over problems, as a fraction of 1)",
        "",
        _markdown_table(report["pass_at_k"]),
        "",
        "## Coverage (problems with at least one correct sample)",
        "",
        _markdown_table(report["coverage"]),
        "",
        *(["## Disagreements by the rule of the paper's grader behind them (shift_pass@k: a fraction of 1)", "",
           _markdown_table(report["causes"]) if len(report["causes"]) else "None.", ""]
          if "causes" in report and PAPER_GRADER in (name_a, name_b) else []),
        f"## Disagreements ({len(shown)} of {len(disagreements)} shown; all in disagreements.csv)",
        "",
        _markdown_table(shown.drop(columns=["text"], errors="ignore")) if len(shown) else "None.",
        "",
    ]
    return "\n".join(lines)


def write_report(report: dict[str, pd.DataFrame], out_dir: str | Path, title: str | None = None,
                 settings: list[dict] | None = None) -> dict[str, Path]:
    """Write each table as `<name>.csv` and the Markdown summary as `summary.md`, each atomically.
    Returns the written paths by table name, plus "markdown"."""
    out_dir = Path(out_dir)
    written = {}
    for name, table in report.items():
        written[name] = out_dir / f"{name}.csv"
        write_text(written[name], table.to_csv(index=name == "status_crosstab"))
    written["markdown"] = out_dir / "summary.md"
    write_text(written["markdown"], report_markdown(report, title, settings))
    return written
