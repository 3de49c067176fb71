from rlvr_eval.provenance.scriptlog import logged
from rlvr_eval.verify.driver import verify_shard

with logged(snakemake):
    verify_shard(
        snakemake.input.samples,
        snakemake.input.problems,
        snakemake.output[0],
        grader=snakemake.params.grader,
        benchmark=snakemake.wildcards.benchmark,
        timeout_s=float(snakemake.params.timeout_s),
        workers=max(1, int(snakemake.threads)),
    )
