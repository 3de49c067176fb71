"""The guessing check's review sheet of one model on one benchmark (rule review_sheet; rlvr_eval.analysis.review)."""

import pandas as pd

from rlvr_eval.analysis.review import hard_correct_responses, render_review_sheet, shown_responses
from rlvr_eval.io import read_parquet, write_text
from rlvr_eval.provenance.scriptlog import logged

with logged(snakemake):
    p, w = snakemake.params, snakemake.wildcards
    verdicts = pd.concat(read_parquet(f, columns=["problem_id", "sample_index", "correct", "extracted"])
                         for f in snakemake.input.verdicts)
    samples = pd.concat(read_parquet(f, columns=["problem_id", "sample_index", "text"]) for f in snakemake.input.samples)
    rows = hard_correct_responses(read_parquet(snakemake.input.metrics), verdicts, samples, p.max_solve_rate,
                                  p.responses_per_problem)
    page = render_review_sheet(rows, read_parquet(snakemake.input.problems), w.model, w.benchmark, p.max_solve_rate,
                               p.judgements_file)
    write_text(snakemake.output.sheet, page)
    write_text(snakemake.output.shown, shown_responses(rows).to_csv(index=False))
    print(f"{rows['problem_id'].nunique()} hard problems, {len(rows)} correct responses to review")
