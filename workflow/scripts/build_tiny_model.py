import pandas as pd
import torch

from rlvr_eval.io import apply_umask, read_json, read_parquet, write_json
from rlvr_eval.provenance.scriptlog import logged
from rlvr_eval.models.tiny_spec import TinyModelSpec
from rlvr_eval.models.tiny_text import build_tiny_model

with logged(snakemake) as prov:
    torch.set_num_threads(snakemake.threads)  # torch's default, every core, oversubscribes parallel CPU jobs
    problems = pd.concat([read_parquet(p) for p in snakemake.input.problems], ignore_index=True)
    init_from = read_json(snakemake.input.init[0])["path"] if snakemake.input.init else None
    if init_from:
        prov.add_input(init_from)  # the weights it starts from (the manifest is the Snakemake input)
    spec = TinyModelSpec(**snakemake.params.spec)
    manifest = build_tiny_model(snakemake.output.weights, spec, problems, snakemake.params.template, init_from)
    apply_umask(snakemake.output.weights)
    print(manifest)
    manifest = {"path": snakemake.output.weights, "source": "tiny", **manifest}
    write_json(snakemake.output.manifest, manifest)
    prov.add_model(snakemake.wildcards.model, manifest, snakemake.output.manifest, weights=snakemake.output.weights)
