import pandas as pd

from rlvr_eval.io import read_parquet, write_parquet, write_text
from rlvr_eval.metrics.passk import check_complete, mean_pass_at_k, per_problem_counts, per_problem_pass_at_k
from rlvr_eval.provenance.scriptlog import logged

with logged(snakemake):
    ks = snakemake.params.ks
    verdicts = pd.concat([read_parquet(f) for f in snakemake.input.verdicts], ignore_index=True)
    problems = read_parquet(snakemake.input.problems, columns=["problem_id"])["problem_id"]
    w = snakemake.wildcards
    check_complete(verdicts, problems, snakemake.params.n, f"{w.model}/{w.benchmark}/{w.grader} verdicts")
    per_problem = per_problem_pass_at_k(per_problem_counts(verdicts), ks)
    write_parquet(snakemake.output.per_problem, per_problem, {"ks": ks, "verdict_files": list(snakemake.input.verdicts)})
    write_text(snakemake.output.mean, mean_pass_at_k(per_problem, ks).rename_axis("k").to_csv())
