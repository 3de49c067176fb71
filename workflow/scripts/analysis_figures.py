"""Paper-style figures of the analyses: pass@k grid with bootstrap bands, accuracy histograms, coverage bars and
(when the rule has a perplexity output) perplexity box plots (rule analysis_figures; logic in
rlvr_eval.plots.analysis_figures). Every figure is declared twice, `<name>` (.png) and `<name>_pdf` (.pdf)."""

from pathlib import Path

import pandas as pd

from rlvr_eval.plots import analysis_figures as figures
from rlvr_eval.analysis.perplexity import PERPLEXITY_COLUMNS
from rlvr_eval.io import read_parquet
from rlvr_eval.provenance.scriptlog import logged


def prefix(name: str) -> Path:
    png, pdf = Path(snakemake.output[name]), Path(snakemake.output[f"{name}_pdf"])
    if png.suffix != ".png" or pdf != png.with_suffix(".pdf"):
        raise ValueError(f"outputs {name}/{name}_pdf must be <prefix>.png and <prefix>.pdf, got {png} and {pdf}")
    return png.with_suffix("")


with logged(snakemake):
    inp, style = snakemake.input, dict(pairs=snakemake.params.pairs, every_model=snakemake.params.models)
    figures.plot_passk_grid(pd.concat([pd.read_csv(f) for f in inp.passk]), prefix("passk_grid"), **style)
    figures.plot_accuracy_histograms(pd.concat([pd.read_csv(f) for f in inp.accuracy_hist]), prefix("accuracy_hist"),
                                     **style)
    figures.plot_coverage_bars(pd.concat([pd.read_csv(f) for f in inp.coverage]), prefix("coverage"))
    if "perplexity" in snakemake.output.keys():
        frames = [read_parquet(f) for f in inp.perplexity]  # none where no scorer shares a benchmark with a responder
        table = pd.concat(frames) if frames else pd.DataFrame(columns=PERPLEXITY_COLUMNS)
        figures.plot_perplexity_boxes(table, prefix("perplexity"), **style,
                                      empty_note="no perplexity computed for this pair")
