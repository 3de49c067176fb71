from rlvr_eval.code.driver import verify_code_shard
from rlvr_eval.provenance.scriptlog import logged

with logged(snakemake):
    expected = snakemake.input.expected  # one file, or none for LiveCodeBench
    expected = [expected] if isinstance(expected, str) else list(expected)
    verify_code_shard(
        snakemake.input.samples,
        snakemake.input.problems,
        expected[0] if expected else None,
        snakemake.output[0],
        benchmark=snakemake.wildcards.benchmark,
        code_prefix=snakemake.params.code_prefix,
        workers=max(1, int(snakemake.threads)),
        isolation=snakemake.params.isolation,
    )
