import shutil

import pandas as pd
import torch

from rlvr_eval.io import read_json, read_parquet, write_json
from rlvr_eval.models.rlvr import RlvrSpec, train_rlvr
from rlvr_eval.provenance.scriptlog import logged

with logged(snakemake) as prov:
    torch.set_num_threads(snakemake.threads)
    problems = pd.concat([read_parquet(p) for p in snakemake.input.problems], ignore_index=True)
    init = read_json(snakemake.input.init)
    prov.add_input(init["path"])  # the weights training starts from (the manifest is the Snakemake input)
    spec = RlvrSpec(**{**snakemake.params.spec, "checkpoint_steps": tuple(snakemake.params.spec["checkpoint_steps"])})
    prov.seeds["rlvr"] = spec.seed
    manifest = train_rlvr(init["path"], snakemake.output.weights, problems, snakemake.params.template, spec)
    print({k: v for k, v in manifest.items() if k != "checkpoints"})
    shutil.copyfile(f"{snakemake.output.weights}/training_log.csv", snakemake.output.training_log)
    manifest = {"path": snakemake.output.weights, "source": "tiny", **manifest}
    write_json(snakemake.output.manifest, manifest)
    prov.add_model(snakemake.wildcards.model, manifest, snakemake.output.manifest, weights=snakemake.output.weights)
