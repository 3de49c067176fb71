from rlvr_eval.code.driver import write_expected_outputs
from rlvr_eval.provenance.scriptlog import logged

with logged(snakemake):
    write_expected_outputs(snakemake.input.problems, snakemake.wildcards.benchmark, snakemake.output[0],
                           isolation=snakemake.params.isolation, workers=max(1, int(snakemake.threads)))
