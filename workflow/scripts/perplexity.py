"""Perplexity of one scoring model on each response set of its group (rule perplexity; one model load, one engine
start, per job; logic in rlvr_eval.analysis.perplexity_groups): each set's table goes to the archive, the job's output
is the group's manifest, and rule perplexity_set copies each table to its own file."""

from rlvr_eval.analysis.output_hold import OutputHold
from rlvr_eval.analysis.perplexity_groups import ScoringModel, score_group, write_manifest
from rlvr_eval.io import read_json
from rlvr_eval.provenance.scriptlog import end_process, logged

# The guard: with the vLLM backend the engine starts in a spawned process, which imports this script again.
if __name__ == "__main__":
    # First the claim (an older job still running, an orphan of a killed Snakemake, must not write after this one),
    # then, in the log and before any model loads, the lock (rlvr_eval.sampling.holds).
    hold = OutputHold(snakemake.output[0], snakemake.config["sampling"]["lock"])
    with logged(snakemake, hold=hold) as prov:
        p = snakemake.params
        manifest = read_json(snakemake.input.model)
        if manifest.get("source") == "tiny":
            prov.add_input(manifest["path"])  # weights built by the workflow: hash them (staged models: their revision)
        model = ScoringModel(manifest, p.backend, p.batch_size, p.engine_kwargs)
        job = {k: getattr(p, k) for k in ("num_problems", "responses_per_problem", "seed", "backend", "batch_size",
                                 "engine_kwargs", "logic")}
        try:
            entries = score_group(p.sets, job, snakemake.input.model, model, before_write=hold.check)
        finally:
            model.close()
        hold.check()  # still this job's output? (an orphan superseded by a newer job writes no manifest)
        write_manifest(snakemake.output[0], entries)
        print(f"{len(entries)} response sets, {sum(e['restored'] for e in entries)} restored from the archive; "
              f"scoring model loaded {model.loads} time(s)")
    end_process()  # vLLM's CPU build can abort in the interpreter's teardown
