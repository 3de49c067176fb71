from rlvr_eval.io import write_json
from rlvr_eval.scriptlog import logged
from rlvr_eval.staging import stage_model

with logged(snakemake.log[0]):
    write_json(snakemake.output.manifest, stage_model(snakemake.params.model, snakemake.params.local_dir))
