# Models -> a local directory plus a manifest results/models/{model}.json ({"path", "revision", ...})
# that the sampling jobs read. Compute jobs never download anything.


rule build_tiny_model:
    input:
        problems=lambda w: [
            GRID.training_data(b) for b in GRID.model(w.model)["tiny"].get("train_benchmarks", GRID.benchmarks_of(w.model))
        ],
        init=lambda w: (
            [f"results/models/{GRID.model(w.model)['tiny']['init_from']}.json"]
            if "init_from" in GRID.model(w.model)["tiny"]
            else []
        ),
    output:
        manifest="results/models/{model}.json",
        weights=directory("results/models/{model}"),
    wildcard_constraints:
        model=regex_of(GRID.models_of_kind("tiny")),
    params:
        spec=lambda w: {k: v for k, v in GRID.model(w.model)["tiny"].items() if k not in ("init_from", "train_benchmarks")},
        template=lambda w: GRID.model(w.model)["prompt_template"],
        logic=logic_version("tiny_models"),
    resources:
        mem_mb=RESOURCES.cpu("build_tiny_model")["mem_mb"],
        runtime=RESOURCES.cpu("build_tiny_model")["runtime"],
    conda:
        "../../envs/sampling-transformers.yaml"
    log:
        "logs/models/{model}.log",
    script:
        "../scripts/build_tiny_model.py"


rule stage_model:
    output:
        manifest="results/models/{model}.json",
    wildcard_constraints:
        model=regex_of(GRID.models_of_kind("hf_id") + GRID.models_of_kind("path")),
    params:
        model=lambda w: GRID.model(w.model),
        local_dir=lambda w: f"resources/models/{w.model}",
        logic=logic_version("staging"),
    conda:
        "../../envs/cpu.yaml"
    log:
        "logs/models/{model}.log",
    localrule: True  # downloads on the login node; compute nodes read resources/ only
    script:
        "../scripts/stage_model.py"


rule variant_model:
    input:
        source=lambda w: f"results/models/{GRID.weights_model(w.model)}.json",
    output:
        manifest="results/models/{model}.json",
    wildcard_constraints:
        model=regex_of(GRID.models_of_kind("variant_of")),
    params:
        source=lambda w: GRID.weights_model(w.model),
        logic=logic_version("variants"),
    conda:
        "../../envs/cpu.yaml"
    log:
        "logs/models/{model}.log",
    localrule: True  # copies a manifest: the weights are the source model's, staged once
    script:
        "../scripts/variant_model.py"


rule train_rlvr:
    input:
        problems=lambda w: [GRID.training_data(b) for b in GRID.model(w.model)["rlvr"]["train_benchmarks"]],
        init=lambda w: f"results/models/{GRID.model(w.model)['rlvr']['init_from']}.json",
    output:
        manifest="results/models/{model}.json",
        weights=directory("results/models/{model}"),
        training_log="results/training/{model}.csv",
    wildcard_constraints:
        model=regex_of(GRID.models_of_kind("rlvr")),
    params:
        spec=lambda w: {
            **{k: v for k, v in GRID.model(w.model)["rlvr"].items() if k not in ("init_from", "train_benchmarks")},
            "checkpoint_steps": sorted(GRID.checkpoints(w.model)),
        },
        template=lambda w: GRID.model(w.model)["prompt_template"],
        logic=logic_version("rlvr"),
    threads: 1  # tiny matrices: more torch threads only add synchronisation (10x slower on a busy 2-core machine)
    resources:
        mem_mb=RESOURCES.cpu("build_tiny_model")["mem_mb"],
        runtime=RESOURCES.cpu("build_tiny_model")["runtime"],
    conda:
        "../../envs/sampling-transformers.yaml"
    log:
        "logs/models/{model}.log",
    script:
        "../scripts/train_rlvr.py"


rule register_checkpoint:
    input:
        trained=lambda w: f"results/models/{GRID.model(w.model)['checkpoint']['of']}.json",
    output:
        manifest="results/models/{model}.json",
    wildcard_constraints:
        model=regex_of(GRID.models_of_kind("checkpoint")),
    params:
        step=lambda w: GRID.model(w.model)["checkpoint"]["step"],
        logic=logic_version("rlvr"),
    conda:
        "../../envs/sampling-transformers.yaml"
    log:
        "logs/models/{model}.log",
    localrule: True  # writes a manifest
    script:
        "../scripts/register_checkpoint.py"
