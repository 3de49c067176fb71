import pandas as pd

from rlvr_eval.io import read_json, read_parquet, write_json
from rlvr_eval.scriptlog import logged
from rlvr_eval.tiny_models import TinyModelSpec, build_tiny_model

with logged(snakemake.log[0]):
    problems = pd.concat([read_parquet(p) for p in snakemake.input.problems], ignore_index=True)
    init_from = read_json(snakemake.input.init[0])["path"] if snakemake.input.init else None
    spec = TinyModelSpec(**snakemake.params.spec)
    manifest = build_tiny_model(snakemake.output.weights, spec, problems, snakemake.params.template, init_from)
    print(manifest)
    write_json(snakemake.output.manifest, {"path": snakemake.output.weights, "revision": None, "source": "tiny", **manifest})
