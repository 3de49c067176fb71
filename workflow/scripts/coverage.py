"""Coverage of one (base, RL) pair on one benchmark: problems solved within k samples by both / base only /
RL only / neither, and whether RL-solved ⊆ base-solved (rule coverage; logic in rlvr_eval.analysis.coverage)."""

import pandas as pd

from rlvr_eval.analysis.coverage import coverage_report, write_coverage
from rlvr_eval.io import read_parquet
from rlvr_eval.provenance.scriptlog import logged

VERDICT_COLUMNS = ["problem_id", "sample_index", "correct"]

with logged(snakemake):
    p = snakemake.params
    base = pd.concat([read_parquet(f, columns=VERDICT_COLUMNS) for f in snakemake.input.base], ignore_index=True)
    rl = pd.concat([read_parquet(f, columns=VERDICT_COLUMNS) for f in snakemake.input.rl], ignore_index=True)
    table, ids = coverage_report(base, rl, ks=p.ks, pair=p.pair, benchmark=p.benchmark, base_model=p.base, rl_model=p.rl)
    write_coverage(table, ids, snakemake.output.table, snakemake.output.ids)
    print(table.to_string(index=False))
