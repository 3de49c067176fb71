"""Per-problem accuracy histogram (c/n in bins {0}, (0,0.1], …, (0.9,1), {1}) of one (base, RL) pair on one
benchmark (rule accuracy_hist; logic in rlvr_eval.analysis.accuracy_hist)."""

from rlvr_eval.analysis.accuracy_hist import accuracy_histogram
from rlvr_eval.io import read_parquet, write_text
from rlvr_eval.provenance.scriptlog import logged

COUNT_COLUMNS = ["problem_id", "n", "c"]

with logged(snakemake):
    p = snakemake.params
    counts = {p.base: read_parquet(snakemake.input.base, columns=COUNT_COLUMNS),
              p.rl: read_parquet(snakemake.input.rl, columns=COUNT_COLUMNS)}
    table = accuracy_histogram(counts, labels={"pair": p.pair, "benchmark": p.benchmark})
    write_text(snakemake.output[0], table.to_csv(index=False))
    print(table.to_string(index=False))
