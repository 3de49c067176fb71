"""Mean token NLL of every model's sampled responses on every benchmark (rule token_nll; rlvr_eval.analysis.token_nll)."""

import pandas as pd

from rlvr_eval.analysis.token_nll import COLUMNS, to_markdown, token_nll
from rlvr_eval.io import read_parquet, write_text
from rlvr_eval.provenance.scriptlog import logged

with logged(snakemake):
    rows = []
    for entry in snakemake.params.entries:  # {model, benchmark, files}
        samples = pd.concat(read_parquet(f, columns=["num_tokens", "finish_reason", "logprob_sum"]) for f in entry["files"])
        rows.append({"model": entry["model"], "benchmark": entry["benchmark"], **token_nll(samples)})
    table = pd.DataFrame(rows, columns=COLUMNS)
    write_text(snakemake.output.csv, table.to_csv(index=False))
    write_text(snakemake.output.md, to_markdown(table, snakemake.params.left_out, snakemake.params.settings))
    print(table.to_string(index=False))
