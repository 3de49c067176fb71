from rlvr_eval.io import read_parquet
from rlvr_eval.provenance.scriptlog import logged
from rlvr_eval.metrics.tables import passk_table, sample_counts, write_table

with logged(snakemake):
    per_problem = {m: read_parquet(f) for m, f in zip(snakemake.params.models, snakemake.input)}
    write_table(passk_table(per_problem), snakemake.output.csv, snakemake.output.md,
                title=f"pass@k on {snakemake.wildcards.benchmark}", counts=sample_counts(per_problem),
                counts_path=snakemake.output.samples, note=snakemake.params.left_out, settings=snakemake.params.settings)
