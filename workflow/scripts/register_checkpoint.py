from rlvr_eval.io import read_json, write_json
from rlvr_eval.provenance.scriptlog import logged
from rlvr_eval.models.revision import weights_revision

with logged(snakemake) as prov:
    trained = read_json(snakemake.input.trained)
    checkpoint = trained["checkpoints"][str(snakemake.params.step)]
    revision = weights_revision(checkpoint["path"])
    if revision != checkpoint["revision"]:
        raise ValueError(f"{checkpoint['path']}: weights changed since training (revision {revision}, "
                         f"recorded {checkpoint['revision']} in {snakemake.input.trained})")
    manifest = {"path": checkpoint["path"], "source": "tiny", "revision": revision,
                "checkpoint_of": trained["path"], "step": snakemake.params.step, "template": trained["template"]}
    prov.add_input(checkpoint["path"])
    write_json(snakemake.output.manifest, manifest)
    prov.add_model(snakemake.wildcards.model, manifest, snakemake.output.manifest, weights=checkpoint["path"])
