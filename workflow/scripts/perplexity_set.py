"""One response set's perplexity table, copied from the archive its group's job scored it into (rule perplexity_set;
logic in rlvr_eval.analysis.perplexity_publish)."""

from rlvr_eval.analysis.perplexity_publish import publish_set
from rlvr_eval.provenance.scriptlog import logged

with logged(snakemake):
    publish_set(snakemake.input.manifest, snakemake.output[0])
