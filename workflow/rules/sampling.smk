# (model, benchmark, shard) -> samples (schema: rlvr_eval.sampling.shards): generated (rule sample) or, for a model
# with `responses:`, imported from a file generated elsewhere (rule import_samples; rlvr_eval.sampling.importing).
# With sampling.shards_per_job > 1, one job samples several shards of a model x benchmark with one engine start
# (rule sample_group) and each shard's file is linked from its archive entry (rule sample_from_group).

ruleorder: sample_from_group > sample


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


rule sample_group:
    # The params of rule sample, but the shards' list: each shard's archive key is the one its own job would use.
    input:
        problems=lambda w: f"results/data/{SAMPLE_GROUPS[w.group]['benchmark']}.parquet",
        model=lambda w: f"results/models/{SAMPLE_GROUPS[w.group]['model']}.json",
    output:
        "results/samples/_groups/{group}.json",
    wildcard_constraints:
        group=regex_of(SAMPLE_GROUPS),
    params:
        template=lambda w: GRID.template(*group_job(w)),
        prompt=lambda w: GRID.prompt_params(*group_job(w)),
        sampling=lambda w: GRID.sampling_params(*group_job(w)).to_dict(),
        shard_size=lambda w: GRID.shard_size_of(*group_job(w)),
        seed=config["sampling"]["seed"],
        backend=lambda w: GRID.backend(group_job(w)[0]),
        backend_options=lambda w: GRID.backend_options(group_job(w)[0]),
        logic=logic_version("sampling"),
        shards=lambda w: sample_group_members(w.group),
    resources:
        **sample_group_job_resources(),
    conda:
        lambda w: f"../../envs/sampling-{GRID.backend(group_job(w)[0])}.yaml"
    log:
        "logs/sample/_groups/{group}.log",
    script:
        "../scripts/sample_group.py"


localrules:
    sample_from_group,


rule sample_from_group:
    input:
        manifest=lambda w: GRID.sample_group_file(GRID.sample_group_of(f"results/samples/{w.grouped_shard}.parquet")),
    output:
        "results/samples/{grouped_shard}.parquet",
    wildcard_constraints:
        grouped_shard=regex_of([f.removeprefix("results/samples/").removesuffix(".parquet")
                                for f in GRID.grouped_sample_files()]),
    params:
        logic=logic_version("sample_from_group"),
    resources:
        mem_mb=RESOURCES.cpu("metrics")["mem_mb"],
        runtime=RESOURCES.cpu("metrics")["runtime"],
    conda:
        "../../envs/cpu.yaml"
    log:
        "logs/sample/{grouped_shard}.log",
    script:
        "../scripts/sample_from_group.py"


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
