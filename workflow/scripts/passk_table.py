from rlvr_eval.io import read_parquet
from rlvr_eval.scriptlog import logged
from rlvr_eval.tables import passk_table, write_table

with logged(snakemake):
    per_problem = {m: read_parquet(f) for m, f in zip(snakemake.params.models, snakemake.input)}
    table = passk_table(per_problem)
    write_table(table, snakemake.output.csv, snakemake.output.md, title=f"pass@k on {snakemake.wildcards.benchmark}")
