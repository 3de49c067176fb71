# samples -> verdicts, one file per shard and grader (schema: rlvr_eval.verify.graders).


rule verify:
    input:
        samples="results/samples/{model}/{benchmark}/shard-{shard}.parquet",
        problems="results/data/{benchmark}.parquet",
    output:
        "results/verdicts/{model}/{benchmark}/{grader}/shard-{shard}.parquet",
    wildcard_constraints:
        grader=r"(?!code_exec/)[^/]+",  # code benchmarks: rule verify_code (workflow/rules/code.smk)
    params:
        grader="{grader}",
        grader_version=lambda w: GRID.grader_version(w.grader),
        logic=lambda w: logic_version("verify", grader=w.grader),
        timeout_s=lambda w: GRID.grader_timeout(w.grader),
    threads: config["verification"]["workers"]
    resources:
        mem_mb=RESOURCES.cpu("verify")["mem_mb"],
        runtime=RESOURCES.cpu("verify")["runtime"],
    conda:
        "../../envs/cpu.yaml"
    log:
        "logs/verify/{model}/{benchmark}/{grader}/shard-{shard}.log",
    script:
        "../scripts/verify_samples.py"
