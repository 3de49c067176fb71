import pandas as pd

from rlvr_eval.io import read_parquet, write_parquet, write_text
from rlvr_eval.passk import mean_pass_at_k, per_problem_counts, per_problem_pass_at_k
from rlvr_eval.scriptlog import logged

with logged(snakemake):
    ks = snakemake.params.ks
    verdicts = pd.concat([read_parquet(f) for f in snakemake.input], ignore_index=True)
    per_problem = per_problem_pass_at_k(per_problem_counts(verdicts), ks)
    write_parquet(snakemake.output.per_problem, per_problem, {"ks": ks, "verdict_files": list(snakemake.input)})
    write_text(snakemake.output.mean, mean_pass_at_k(per_problem, ks).rename_axis("k").to_csv())
