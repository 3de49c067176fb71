from rlvr_eval.code.driver import verify_code_shard
from rlvr_eval.scriptlog import logged

with logged(snakemake):
    verify_code_shard(
        snakemake.input.samples,
        snakemake.input.problems,
        snakemake.input.expected or None,
        snakemake.output[0],
        benchmark=snakemake.wildcards.benchmark,
        code_prefix=snakemake.params.code_prefix,
        workers=max(1, int(snakemake.threads)),
        isolation=snakemake.params.isolation,
    )
