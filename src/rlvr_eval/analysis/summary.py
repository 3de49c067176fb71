"""One results file for a whole run, as lm-evaluation-harness and evalplus write one: every score with its interval
and the settings that made it, plus the config, package versions and model revisions (rule summary).

`results/summary.json`, schema 1:

| key       | meaning                                                                                            |
|-----------|----------------------------------------------------------------------------------------------------|
| config    | the validated config as it bears on the scores (planning.grid.Grid.scored_config)                  |
| packages  | python and library versions of the job that wrote the summary                                      |
| models    | model -> {revision, hf_id or path, ...} from its staging manifest (results/models/<model>.json)    |
| left_out  | {models: {name: why}, pairs: {name: why}, benchmarks: {name: why}} (rlvr_eval.planning.left_out)   |
| scores    | one entry per model x benchmark x grader: model, benchmark, grader, problems, n, temperature,       |
|           | top_p, max_new_tokens, and pass_at_k: {k: {value, ci_low, ci_high}} (percent; percentile bootstrap  |
|           | over problems, `confidence` of analysis.bootstrap)                                                 |

`results/summary.md` holds the same scores as one table per benchmark, headed with its grader and sampling
settings; Snakemake prints it when a run ends (workflow/rules/common.smk, onsuccess).
"""

from __future__ import annotations

import pandas as pd

from rlvr_eval.analysis.bootstrap import bootstrap_mean_passk, passk_intervals
from rlvr_eval.metrics.tables import settings_heading

SCHEMA_VERSION = 1
SHOWN_KS = (1, 8, 64, 256, 1024)  # the columns of summary.md (every k is in summary.json)


def score_entry(entry: dict, per_problem: pd.DataFrame, num_resamples: int, seed: int, confidence: float) -> dict:
    """entry: {model, benchmark, grader, n, temperature, top_p, max_new_tokens} -> the same with pass_at_k."""
    result = bootstrap_mean_passk({entry["model"]: per_problem}, num_resamples=num_resamples, seed=seed)
    scores = {str(int(r["k"])): {"value": round(100 * r["pass@k"], 4), "ci_low": round(100 * r["ci_low"], 4),
                                 "ci_high": round(100 * r["ci_high"], 4)}
              for r in passk_intervals(result, confidence).to_dict("records")}
    return {**entry, "problems": len(result.problem_ids), "pass_at_k": scores}


def to_markdown(scores: list[dict], note: str = "") -> str:
    """One table per benchmark and grader: pass@k (%) with its interval at the shown ks each model reached."""
    lines = ["# Run summary: pass@k (%) with bootstrap intervals over problems", ""]
    by_table: dict[tuple, list[dict]] = {}
    for s in scores:
        by_table.setdefault((s["benchmark"], s["grader"]), []).append(s)
    for (benchmark, grader), rows in by_table.items():
        reached = {int(k) for r in rows for k in r["pass_at_k"]}
        ks = sorted({k for k in SHOWN_KS if k in reached} | {max(reached)})  # and k = n
        lines += [f"## {benchmark} ({settings_heading(rows)})", "",
                  "| model | problems | " + " | ".join(f"pass@{k}" for k in ks) + " |",
                  "|---|---:|" + "---:|" * len(ks)]
        for r in rows:
            cells = [(f"{c['value']:.1f} [{c['ci_low']:.1f}, {c['ci_high']:.1f}]" if (c := r["pass_at_k"].get(str(k)))
                      else "") for k in ks]
            lines.append(f"| {r['model']} | {r['problems']} | " + " | ".join(cells) + " |")
        lines.append("")
    if note:
        lines.append(note)
    return "\n".join(lines).rstrip() + "\n"
