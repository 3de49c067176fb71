"""The manifest of a model that is a variant of another (models.<name>.variant_of): the same weights, evaluated
with its own prompt template, sampling parameters or n (rule variant_model)."""

from rlvr_eval.io import read_json, write_json
from rlvr_eval.provenance.scriptlog import logged

with logged(snakemake) as prov:
    manifest = {**read_json(snakemake.input.source), "variant_of": snakemake.params.source}
    write_json(snakemake.output.manifest, manifest)
    prov.add_model(snakemake.wildcards.model, manifest, snakemake.output.manifest)
