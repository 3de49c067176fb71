import pandas as pd

from rlvr_eval.plots.passk_curves import plot_passk_curves
from rlvr_eval.provenance.scriptlog import logged

with logged(snakemake):
    tables = {b: pd.read_csv(f) for b, f in zip(snakemake.params.benchmarks, snakemake.input.tables)}
    plot_passk_curves(tables, snakemake.params.pairs, snakemake.output.png, snakemake.output.pdf,
                      note=snakemake.params.left_out)
