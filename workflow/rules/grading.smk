# Grader agreement: the same samples verified by two graders, compared (rlvr_eval.analysis.grader_agreement).


rule grader_agreement:
    input:
        a=lambda w: GRID.verdict_files(w.model, w.benchmark, GRID.compare_graders()[0]),
        b=lambda w: GRID.verdict_files(w.model, w.benchmark, GRID.compare_graders()[1]),
        samples=lambda w: GRID.sample_files(w.model, w.benchmark),
    output:
        summary=report(
            "results/grader_agreement/{model}/{benchmark}/summary.md",
            category="Grader agreement",
            subcategory="{benchmark}",
            labels={"model": "{model}", "benchmark": "{benchmark}"},
            caption="../report/grader_agreement.rst",
        ),
        disagreements="results/grader_agreement/{model}/{benchmark}/disagreements.csv",
        tables=multiext("results/grader_agreement/{model}/{benchmark}/", "summary.csv", "status_crosstab.csv",
                        "pass_at_k.csv", "coverage.csv", "causes.csv"),
    params:
        graders=GRID.compare_graders()[:2],
        settings=lambda w: table_settings(GRID, [(w.model, w.benchmark)]),
        logic=logic_version("agreement"),
    resources:
        mem_mb=RESOURCES.cpu("metrics")["mem_mb"],
        runtime=RESOURCES.cpu("metrics")["runtime"],
    conda:
        "../../envs/cpu.yaml"
    log:
        "logs/grader_agreement/{model}/{benchmark}.log",
    script:
        "../scripts/grader_agreement.py"
