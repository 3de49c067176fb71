# pass@k along RL training: one row per checkpoint of each rlvr model or model listing `checkpoints`
# (schema: rlvr_eval.metrics.checkpoint_series).


# Seconds of pandas or matplotlib each: they run where Snakemake runs (on a cluster: no queue wait).
localrules:
    checkpoint_series,


rule checkpoint_series:
    input:
        passk="results/tables/passk/{benchmark}.csv",
        # an rlvr model's run: its training log is plotted beside pass@k
        trained=lambda w: ["results/models/{model}.json"] if "rlvr" in GRID.model(w.model) else [],
    output:
        csv=report(
            "results/tables/checkpoints/{model}/{benchmark}.csv",
            category="RL training",
            labels={"model": "{model}", "benchmark": "{benchmark}", "kind": "table"},
            caption="../report/checkpoint_table.rst",
        ),
        md="results/tables/checkpoints/{model}/{benchmark}.md",
        png=report(
            "results/figures/checkpoints/{model}/{benchmark}.png",
            category="RL training",
            labels={"model": "{model}", "benchmark": "{benchmark}", "kind": "figure"},
            caption="../report/checkpoint_figure.rst",
        ),
        pdf="results/figures/checkpoints/{model}/{benchmark}.pdf",
        summary_csv=report(
            "results/tables/checkpoints/{model}/{benchmark}.summary.csv",
            category="RL training",
            labels={"model": "{model}", "benchmark": "{benchmark}", "kind": "pass@1 and pass@k_max"},
            caption="../report/checkpoint_summary.rst",
        ),
        summary_md="results/tables/checkpoints/{model}/{benchmark}.summary.md",
        passk_png=report(
            "results/figures/checkpoints/{model}/{benchmark}.passk.png",
            category="RL training",
            labels={"model": "{model}", "benchmark": "{benchmark}", "kind": "pass@k by step"},
            caption="../report/checkpoint_passk.rst",
        ),
        passk_pdf="results/figures/checkpoints/{model}/{benchmark}.passk.pdf",
    wildcard_constraints:
        model=regex_of(GRID.series_models),
    params:
        series=lambda w: GRID.checkpoint_series(w.model),
        settings=lambda w: table_settings(GRID, [(m, w.benchmark) for _, m in GRID.checkpoint_series(w.model)]),
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
