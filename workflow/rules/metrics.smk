# verdicts -> per-problem pass@k -> tables and figures (schemas: rlvr_eval.metrics.passk).


# Seconds of pandas or matplotlib each: they run where Snakemake runs (on a cluster: no queue wait).
localrules:
    passk_metrics,
    passk_table,
    passk_figure,


rule passk_metrics:
    input:
        verdicts=lambda w: GRID.verdict_files(w.model, w.benchmark, w.grader),
        problems="results/data/{benchmark}.parquet",
    output:
        per_problem="results/metrics/{model}/{benchmark}/{grader}/per_problem.parquet",
        mean="results/metrics/{model}/{benchmark}/{grader}/passk.csv",
    params:
        ks=lambda w: GRID.ks(w.model, w.benchmark),
        n=lambda w: GRID.n(w.model, w.benchmark),
        logic=logic_version("metrics"),
    resources:
        mem_mb=RESOURCES.cpu("metrics")["mem_mb"],
        runtime=RESOURCES.cpu("metrics")["runtime"],
    conda:
        "../../envs/cpu.yaml"
    log:
        "logs/metrics/{model}/{benchmark}/{grader}.log",
    script:
        "../scripts/passk_metrics.py"


rule passk_table:
    input:
        lambda w: GRID.metrics_files(w.benchmark),
    output:
        csv=report(
            "results/tables/passk/{benchmark}.csv",
            category="pass@k",
            subcategory="tables",
            labels={"benchmark": "{benchmark}"},
            caption="../report/passk_table.rst",
        ),
        md="results/tables/passk/{benchmark}.md",
        samples=report(
            "results/tables/samples/{benchmark}.csv",
            category="pass@k",
            subcategory="samples capped or not generated",
            labels={"benchmark": "{benchmark}"},
            caption="../report/sample_counts.rst",
        ),
    params:
        models=lambda w: GRID.models_on(w.benchmark),
        settings=lambda w: table_settings(GRID, [(m, w.benchmark) for m in GRID.models_on(w.benchmark)]),
        left_out=GRID.left_out_note(),
        logic=logic_version("tables"),
    resources:
        mem_mb=RESOURCES.cpu("metrics")["mem_mb"],
        runtime=RESOURCES.cpu("metrics")["runtime"],
    conda:
        "../../envs/cpu.yaml"
    log:
        "logs/tables/passk/{benchmark}.log",
    script:
        "../scripts/passk_table.py"


rule passk_figure:
    input:
        tables=expand("results/tables/passk/{benchmark}.csv", benchmark=GRID.benchmarks),
        intervals=GRID.pair_band_files(),  # the bands of the paired models' curves
        unpaired=[GRID.metrics_file(m, b) for m, b in GRID.unpaired_curves()],  # bootstrapped in the rule
    output:
        png=report("results/figures/passk_curves.png", category="pass@k", caption="../report/passk_curves.rst"),
        pdf="results/figures/passk_curves.pdf",
    params:
        benchmarks=GRID.benchmarks,
        pairs=GRID.pairs,
        models=GRID.figure_models(),  # colours and markers as in the pairs' figures
        left_out=GRID.left_out_note(),
        unpaired=GRID.unpaired_curves(),
        num_resamples=config["analysis"]["bootstrap"]["resamples"],
        seed=config["analysis"]["bootstrap"]["seed"],
        confidence=config["analysis"]["bootstrap"]["confidence"],
        logic=logic_version("figures"),
    resources:
        mem_mb=RESOURCES.cpu("metrics")["mem_mb"],
        runtime=RESOURCES.cpu("metrics")["runtime"],
    conda:
        "../../envs/cpu.yaml"
    log:
        "logs/figures/passk_curves.log",
    script:
        "../scripts/passk_figure.py"
