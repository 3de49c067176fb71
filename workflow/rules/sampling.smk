# (model, benchmark, shard) -> samples (schema: rlvr_eval.sampling).


rule sample:
    input:
        problems="results/data/{benchmark}.parquet",
        model="results/models/{model}.json",
    output:
        "results/samples/{model}/{benchmark}/shard-{shard}.parquet",
    params:
        template=lambda w: GRID.model(w.model)["prompt_template"],
        sampling=lambda w: GRID.sampling_params(w.model).to_dict(),
        num_samples=lambda w: GRID.shard_num_samples(w.benchmark, w.shard),
        shard_size=GRID.shard_size,
        seed=config["sampling"]["seed"],
        backend=lambda w: GRID.backend(w.model),
        backend_options=lambda w: GRID.backend_options(w.model),
        logic=logic_version("sampling"),  # manual: editing the sampling code never resamples by itself
    resources:
        gpu=lambda w: RESOURCES.sampling(w.model)["gpu"],
        cpus_per_gpu=lambda w: RESOURCES.sampling(w.model)["cpus_per_gpu"],
        mem_mb=lambda w: RESOURCES.sampling(w.model)["mem_mb"],
        runtime=lambda w: RESOURCES.sampling(w.model)["runtime"],
        nodes=lambda w: RESOURCES.sampling(w.model)["nodes"],
    conda:
        lambda w: f"../../envs/sampling-{GRID.backend(w.model)}.yaml"
    log:
        "logs/sample/{model}/{benchmark}/shard-{shard}.log",
    script:
        "../scripts/sample.py"
