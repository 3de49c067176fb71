"""pass@k curves of every model on every benchmark with bootstrap bands (rule passk_figure; logic in
rlvr_eval.plots.passk_curves): the pairs' bands from rule bootstrap_passk, the unpaired models' computed here."""

import pandas as pd

from rlvr_eval.io import read_parquet
from rlvr_eval.plots.passk_curves import plot_passk_curves, unpaired_intervals
from rlvr_eval.provenance.scriptlog import logged

with logged(snakemake):
    p = snakemake.params
    tables = {b: pd.read_csv(f) for b, f in zip(p.benchmarks, snakemake.input.tables)}
    bands = [pd.read_csv(f) for f in snakemake.input.intervals]
    bands += [unpaired_intervals(read_parquet(f), model, benchmark, p.num_resamples, p.seed, p.confidence)
              for (model, benchmark), f in zip(p.unpaired, snakemake.input.unpaired)]
    plot_passk_curves(tables, p.pairs, snakemake.output.png, snakemake.output.pdf, note=p.left_out,
                      intervals=pd.concat(bands) if bands else None, every_model=p.models)
