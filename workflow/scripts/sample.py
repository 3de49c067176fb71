import os

os.environ["HF_HUB_OFFLINE"] = "1"  # compute jobs read staged files only, never the hub

from rlvr_eval.sampling.backends import SamplingParams, load_backend
from rlvr_eval.io import read_json, read_parquet
from rlvr_eval.sampling.shards import ShardSpec, sample_shard
from rlvr_eval.provenance.scriptlog import end_process, logged

# The guard: with the vLLM backend the engine starts in a spawned process, which imports this script again.
if __name__ == "__main__":
    with logged(snakemake) as prov:
        import torch

        torch.set_num_threads(snakemake.threads)  # torch's default, every core, oversubscribes parallel CPU jobs
        p, w = snakemake.params, snakemake.wildcards
        model = read_json(snakemake.input.model)
        if model.get("source") == "tiny":
            prov.add_input(model["path"])  # weights built by the workflow: hash them (staged models: their revision)
        backend = load_backend(p.backend, model["path"], **p.backend_options)
        spec = ShardSpec(w.model, w.benchmark, int(w.shard), p.shard_size, p.num_samples, p.seed)
        prov.seeds["problem_seed"] = "derive_seed(seed, model, benchmark, shard, problem_id)"
        params = SamplingParams(**{**p.sampling, "stop": tuple(p.sampling["stop"])})
        # how often to checkpoint is read from the config, not a param: it never changes a sample
        sample_shard(read_parquet(snakemake.input.problems), backend, spec, p.template, params, snakemake.output[0],
                     checkpoint_samples=snakemake.config["sampling"]["checkpoint_samples"],
                     extra_metadata={"model_manifest": model, "logic": p.logic})
        prov.notes["backend"] = backend.info()
        backend.close()
    end_process()  # vLLM's CPU build can abort in the interpreter's teardown
