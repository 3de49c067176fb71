"""One shard's file, linked from the archive entry its group's job sampled it into (rule sample_from_group; logic in
rlvr_eval.sampling.shard_groups)."""

from rlvr_eval.provenance.scriptlog import logged
from rlvr_eval.sampling.shard_groups import link_member

with logged(snakemake):
    print(f"{snakemake.output[0]}: linked from {link_member(snakemake.input.manifest, snakemake.output[0])}")
