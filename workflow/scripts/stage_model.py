import sys

from rlvr_eval.io import write_json
from rlvr_eval.provenance.scriptlog import logged
from rlvr_eval.models.staging import stage_model

with logged(snakemake) as prov:
    manifest = stage_model(snakemake.params.model, snakemake.params.local_dir, name=snakemake.wildcards.model)
    if manifest["warning"]:  # also on the terminal: stage_model is a local rule
        print(f"WARNING: {manifest['warning']}", file=sys.__stderr__)
    write_json(snakemake.output.manifest, manifest)
    prov.add_model(snakemake.wildcards.model, manifest, snakemake.output.manifest)
