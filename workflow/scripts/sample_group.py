"""Several shards of one model x benchmark with one engine start (rule sample_group; logic in
rlvr_eval.sampling.shard_groups): each shard into its archive entry, the manifest as the job's output."""

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # compute jobs read staged files only, never the hub

from rlvr_eval.io import read_json, read_parquet
from rlvr_eval.provenance.scriptlog import end_process, logged
from rlvr_eval.sampling.backends import SamplingParams, load_backend
from rlvr_eval.sampling.holds import OutputHold
from rlvr_eval.sampling.shard_groups import sample_group, write_manifest
from rlvr_eval.sampling.shards import ShardSpec

# The guard: with the vLLM backend the engine starts in a spawned process, which imports this script again.
if __name__ == "__main__":
    hold = OutputHold(snakemake.output[0], snakemake.config["sampling"]["lock"])  # the manifest's; each shard locked too
    with logged(snakemake, hold=hold) as prov:
        p = snakemake.params
        model = read_json(snakemake.input.model)
        if model.get("source") == "tiny":
            prov.add_input(model["path"])  # weights built by the workflow: hash them (staged models: their revision)

        def open_backend():  # at the first shard not in the archive
            import torch

            torch.set_num_threads(snakemake.threads)
            return load_backend(p.backend, model["path"], **p.backend_options)

        members = [(ShardSpec(s["model"], s["benchmark"], int(s["shard"]), p.shard_size, s["num_samples"], p.seed),
                    s["output"]) for s in p.shards]
        prov.seeds["problem_seed"] = "derive_seed(seed, model, benchmark, shard, problem_id)"
        params = SamplingParams(**{**p.sampling, "stop": tuple(p.sampling["stop"])})
        # The sample rule's params of each shard (num_samples is each shard's): the archive keys of one job per shard.
        job_params = {k: v for k, v in p.items() if k != "shards"}
        manifest = sample_group(read_parquet(snakemake.input.problems), open_backend, members, p.template, params,
                                job_params, {"model_manifest": model, "logic": p.logic},
                                snakemake.config["sampling"]["checkpoint_samples"], p.prompt["strip_questions"])
        hold.check()
        write_manifest(snakemake.output[0], manifest)
        print(f"{len(members)} shards, {sum(e['restored'] for e in manifest['shards'])} already archived; "
              f"engine started {manifest['engine_starts']} time(s)")
    end_process()  # vLLM's CPU build can abort in the interpreter's teardown
