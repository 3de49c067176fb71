from pathlib import Path

import pandas as pd

from rlvr_eval.checkpoint_series import plot_series, series_markdown, series_table
from rlvr_eval.io import read_json, write_text
from rlvr_eval.scriptlog import logged

with logged(snakemake) as prov:
    series = [tuple(s) for s in snakemake.params.series]
    table = series_table(pd.read_csv(snakemake.input.passk), series)
    write_text(snakemake.output.csv, table.to_csv(index=False))
    write_text(snakemake.output.md, series_markdown(table, f"pass@k along training: {snakemake.wildcards.model}"))
    log_file = Path(read_json(snakemake.input.trained)["path"]) / "training_log.csv"
    prov.add_input(log_file)
    title = f"{snakemake.wildcards.model} on {snakemake.wildcards.benchmark}"
    plot_series(table, pd.read_csv(log_file), title, snakemake.output.png, snakemake.output.pdf)
