from pathlib import Path

import pandas as pd

from rlvr_eval.metrics.checkpoint_series import series_markdown, series_table, summary_markdown, summary_table
from rlvr_eval.plots.checkpoint_figures import plot_passk_by_step, plot_series
from rlvr_eval.io import read_json, write_text
from rlvr_eval.provenance.scriptlog import logged

with logged(snakemake) as prov:
    out, model, benchmark = snakemake.output, snakemake.wildcards.model, snakemake.wildcards.benchmark
    series = [tuple(s) for s in snakemake.params.series]
    table = series_table(pd.read_csv(snakemake.input.passk), series)
    write_text(out.csv, table.to_csv(index=False))
    settings = snakemake.params.settings
    write_text(out.md, series_markdown(table, f"pass@k along training: {model} on {benchmark}", settings))
    summary = summary_table(table)
    write_text(out.summary_csv, summary.to_csv(index=False))
    write_text(out.summary_md, summary_markdown(summary, f"pass@1 and pass@k_max along training: {model} on {benchmark}",
                                                settings))
    log = None
    if snakemake.input.trained:  # an rlvr model trained here: its training reward
        log_file = Path(read_json(snakemake.input.trained[0])["path"]) / "training_log.csv"
        prov.add_input(log_file)
        log = pd.read_csv(log_file)
    title = f"{model} on {benchmark}"
    plot_series(table, log, title, out.png, out.pdf)
    plot_passk_by_step(table, title, out.passk_png, out.passk_pdf)
