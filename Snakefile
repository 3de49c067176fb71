# rlvr_eval: does RL incentivize reasoning beyond the base model? pass@k at large k, as a workflow.
# The paper grid is config.yaml; `--configfile config/demo.yaml` runs the offline demo instead.

if not workflow.overwrite_configfiles:

    configfile: "config.yaml"


report: "workflow/report/workflow.rst"  # the landing page of `snakemake --report`


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/models.smk"
include: "workflow/rules/sampling.smk"
include: "workflow/rules/verification.smk"
include: "workflow/rules/code.smk"
include: "workflow/rules/metrics.smk"
include: "workflow/rules/grading.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/checkpoints.smk"


rule all:
    input:
        GRID.targets(),
    default_target: True


record_signatures(workflow.rules)  # after every rule: planning speed only (workflow/rules/common.smk)
