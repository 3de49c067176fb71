# (model, benchmark, shard) -> samples (schema: rlvr_eval.sampling.shards): generated (rule sample) or, for a model
# with `responses:`, imported from a file generated elsewhere (rule import_samples; rlvr_eval.sampling.importing).


rule sample:
    input:
        problems="results/data/{benchmark}.parquet",
        model="results/models/{model}.json",
    output:
        "results/samples/{model}/{benchmark}/shard-{shard}.parquet",
    wildcard_constraints:
        model=regex_of(GRID.sampled_models),
    params:
        template=lambda w: GRID.template(w.model, w.benchmark),
        prompt=lambda w: GRID.prompt_params(w.model, w.benchmark),  # the template's text: editing it resamples its models only
        sampling=lambda w: GRID.sampling_params(w.model, w.benchmark).to_dict(),
        num_samples=lambda w: GRID.shard_num_samples(w.model, w.benchmark, w.shard),
        shard_size=shard_size_param(),
        seed=config["sampling"]["seed"],
        backend=constant_or(lambda w: GRID.backend(w.model), [{"model": m} for m in GRID.sampled_models]),
        backend_options=lambda w: GRID.backend_options(w.model),
        logic=logic_version("sampling"),  # manual: editing the sampling code never resamples by itself
    resources:
        **sample_job_resources(),
    conda:
        constant_or(lambda w: f"../../envs/sampling-{GRID.backend(w.model)}.yaml", [{"model": m} for m in GRID.sampled_models])
    log:
        "logs/sample/{model}/{benchmark}/shard-{shard}.log",
    script:
        "../scripts/sample.py"


rule import_samples:
    input:
        responses=lambda w: GRID.import_entry(w.model, w.benchmark),
        problems="results/data/{benchmark}.parquet",
    output:
        "results/samples/{model}/{benchmark}/shard-{shard}.parquet",
    wildcard_constraints:
        model=regex_of(GRID.models_of_kind("responses")),
    params:
        n=lambda w: GRID.n(w.model, w.benchmark),
        shard_size=shard_size_param(),
        logic=logic_version("import"),
    resources:
        mem_mb=RESOURCES.cpu("metrics")["mem_mb"],
        runtime=RESOURCES.cpu("metrics")["runtime"],
    conda:
        "../../envs/cpu.yaml"
    log:
        "logs/import/{model}/{benchmark}/shard-{shard}.log",
    script:
        "../scripts/import_samples.py"
