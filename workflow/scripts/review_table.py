"""The researcher's judgements of one review sheet as the guessing check's table (rule review_table;
rlvr_eval.analysis.review)."""

import pandas as pd

from rlvr_eval.analysis.review import read_judgements, review_markdown, review_table
from rlvr_eval.io import write_text
from rlvr_eval.provenance.scriptlog import logged

with logged(snakemake):
    w = snakemake.wildcards
    shown = pd.read_csv(snakemake.input.shown, dtype={"problem": str})
    table = review_table(read_judgements(snakemake.input.judgements, shown), shown)
    write_text(snakemake.output.csv, table.to_csv(index=False))
    write_text(snakemake.output.md, review_markdown(table, w.model, w.benchmark, snakemake.input.judgements,
                                                snakemake.params.settings))
    print(table.to_string(index=False))
