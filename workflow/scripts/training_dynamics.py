"""Training dynamics of every RL model of the config: the table and the figure of the paper's Fig. 18 form (rule
training_dynamics; logic in rlvr_eval.analysis.training_dynamics and rlvr_eval.plots.training_dynamics)."""

from pathlib import Path

import pandas as pd

from rlvr_eval.analysis.training_dynamics import dynamics_table, settings_of, to_markdown
from rlvr_eval.io import read_json, write_text
from rlvr_eval.plots.training_dynamics import plot_training_dynamics
from rlvr_eval.provenance.scriptlog import logged

with logged(snakemake):
    p, inp = snakemake.params, snakemake.input
    logs = {m: pd.read_csv(f) for m, f in zip(p.models, inp.logs)}
    settings = {m: settings_of(read_json(f)) for m, f in zip(p.models, inp.manifests)}
    table = dynamics_table(logs, settings, p.window)
    write_text(snakemake.output.csv, table.to_csv(index=False))
    write_text(snakemake.output.md, to_markdown(table, p.window))
    plot_training_dynamics(logs, Path(snakemake.output.png).with_suffix(""), p.window)
    print(table.to_string(index=False))
