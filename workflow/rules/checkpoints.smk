# pass@k along RL training: one row per checkpoint of each rlvr model (schema: rlvr_eval.checkpoint_series).


rule checkpoint_series:
    input:
        passk="results/tables/passk/{benchmark}.csv",
        trained="results/models/{model}.json",
    output:
        csv=report(
            "results/tables/checkpoints/{model}/{benchmark}.csv",
            category="RL training",
            labels={"model": "{model}", "benchmark": "{benchmark}", "kind": "table"},
        ),
        md="results/tables/checkpoints/{model}/{benchmark}.md",
        png=report(
            "results/figures/checkpoints/{model}/{benchmark}.png",
            category="RL training",
            labels={"model": "{model}", "benchmark": "{benchmark}", "kind": "figure"},
        ),
        pdf="results/figures/checkpoints/{model}/{benchmark}.pdf",
    wildcard_constraints:
        model=regex_of(GRID.models_of_kind("rlvr")),
    params:
        series=lambda w: GRID.checkpoint_series(w.model),
        logic=logic_version("checkpoint_series"),
    resources:
        mem_mb=RESOURCES.cpu("metrics")["mem_mb"],
        runtime=RESOURCES.cpu("metrics")["runtime"],
    conda:
        "../../envs/cpu.yaml"
    log:
        "logs/checkpoints/{model}/{benchmark}.log",
    script:
        "../scripts/checkpoint_series.py"
