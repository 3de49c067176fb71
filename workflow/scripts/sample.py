import os

os.environ["HF_HUB_OFFLINE"] = "1"  # compute jobs read staged files only, never the hub

from rlvr_eval.sampling.backends import SamplingParams, load_backend
from rlvr_eval.io import read_json, read_parquet, read_parquet_metadata
from rlvr_eval.sampling.shards import ShardSpec, sample_shard, shard_hold
from rlvr_eval.provenance.scriptlog import end_process, logged

# The guard: with the vLLM backend the engine starts in a spawned process, which imports this script again.
if __name__ == "__main__":
    # First the claim (an older job still running, an orphan of a killed Snakemake, must not write after this one),
    # then, in the log and before anything else, the lock (rlvr_eval.sampling.holds). How to lock and how often to
    # checkpoint are read from the config, not params: they never change a sample.
    hold = shard_hold(snakemake.output[0], snakemake.config["sampling"]["lock"])
    with logged(snakemake, hold=hold) as prov:
        p, w = snakemake.params, snakemake.wildcards
        model = read_json(snakemake.input.model)
        if model.get("source") == "tiny":
            prov.add_input(model["path"])  # weights built by the workflow: hash them (staged models: their revision)

        spec = ShardSpec(w.model, w.benchmark, int(w.shard), p.shard_size, p.num_samples, p.seed)

        def open_backend():  # called only if the shard is not restored from the archive: a restore loads no model
            import torch

            torch.set_num_threads(snakemake.threads)  # torch's default, every core, oversubscribes parallel CPU jobs
            engine_seed = {"seed": spec.engine_seed} if p.backend_options.get("seeding") == "engine" else {}
            return load_backend(p.backend, model["path"], **p.backend_options, **engine_seed)

        prov.seeds["problem_seed"] = "derive_seed(seed, model, benchmark, shard, problem_id)"
        if p.backend_options.get("seeding") == "engine":
            prov.seeds["engine_seed"] = spec.engine_seed
        params = SamplingParams(**{**p.sampling, "stop": tuple(p.sampling["stop"])})
        # Every param keys the archive: what makes Snakemake rerun the job also tells archived shards apart.
        sample_shard(read_parquet(snakemake.input.problems), open_backend, spec, p.template, params, snakemake.output[0],
                     checkpoint_samples=snakemake.config["sampling"]["checkpoint_samples"],
                     extra_metadata={"model_manifest": model, "logic": p.logic}, job_params=dict(p.items()), hold=hold,
                     strip_questions=p.prompt["strip_questions"])
        prov.notes["backend"] = read_parquet_metadata(snakemake.output[0])["backend"]  # a restored shard: its sampler's
    end_process()  # vLLM's CPU build can abort in the interpreter's teardown
