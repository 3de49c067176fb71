"""The output-entropy table, one row per model x benchmark (rule entropy_table; rlvr_eval.analysis.entropy)."""

from rlvr_eval.analysis.entropy import entropy_table, to_markdown
from rlvr_eval.io import read_parquet, read_parquet_metadata, write_text
from rlvr_eval.provenance.scriptlog import logged

with logged(snakemake):
    files = list(snakemake.input)
    table = entropy_table([read_parquet(f) for f in files], [read_parquet_metadata(f)["scorer"] for f in files])
    write_text(snakemake.output.csv, table.to_csv(index=False))
    write_text(snakemake.output.md, to_markdown(table, snakemake.params.left_out, snakemake.params.settings))
    print(table.to_string(index=False))
