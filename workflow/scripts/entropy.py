"""Output entropy of one model on its own responses to each of its text benchmarks (rule entropy; one model load per
job; logic in rlvr_eval.analysis.entropy): one row per subsampled response."""

from rlvr_eval.analysis.entropy import measure_model
from rlvr_eval.analysis.output_hold import OutputHold
from rlvr_eval.io import read_json, write_parquet
from rlvr_eval.provenance.scriptlog import logged

# As the perplexity job: first the claim on the output (an orphan of a killed Snakemake must not write after this job)
hold = OutputHold(snakemake.output[0], snakemake.config["sampling"]["lock"])
with logged(snakemake, hold=hold) as prov:
    p = snakemake.params
    manifest = read_json(snakemake.input.model)
    if manifest.get("source") == "tiny":
        prov.add_input(manifest["path"])  # weights built by the workflow: hash them (staged models: their revision)
    table, scorer = measure_model(snakemake.wildcards.model, manifest["path"], p.sets, p.num_problems,
                                  p.responses_per_problem, p.seed, p.batch_size, p.max_batch_tokens)
    hold.check()
    write_parquet(snakemake.output[0], table, {
        "model_manifest": manifest, "scorer": scorer, "num_problems": p.num_problems,
        "responses_per_problem": p.responses_per_problem, "seed": p.seed,
        "sets": [{k: v for k, v in s.items() if k != "samples"} for s in p.sets],
        "status_counts": table["status"].value_counts().to_dict()})
