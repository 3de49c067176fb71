# Code benchmarks (HumanEval+, MBPP+): expected outputs once per benchmark, then samples -> verdicts by
# running each program in the code-execution sandbox (rlvr_eval.code; verdict schema: rlvr_eval.code.driver).
# LiveCodeBench carries its expected outputs in its tests: no expected-output file.


rule code_expected_outputs:
    input:
        problems="results/data/{benchmark}.parquet",
    output:
        "results/data/{benchmark}.expected.json.gz",
    params:
        isolation=config["verification"].get("code_isolation", "auto"),
        logic=logic_version("code_expected"),
    threads: config["verification"]["workers"]
    resources:
        mem_mb=RESOURCES.cpu("verify")["mem_mb"],
        runtime=RESOURCES.cpu("verify")["runtime"],
    conda:
        "../../envs/cpu.yaml"
    log:
        "logs/data/{benchmark}.expected.log",
    script:
        "../scripts/code_expected_outputs.py"


rule verify_code:
    input:
        samples="results/samples/{model}/{benchmark}/shard-{shard}.parquet",
        problems="results/data/{benchmark}.parquet",
        expected=lambda w: (
            [] if w.benchmark in LIVECODEBENCH_WINDOWS else [f"results/data/{w.benchmark}.expected.json.gz"]
        ),
    output:
        "results/verdicts/{model}/{benchmark}/code_exec/shard-{shard}.parquet",
    params:
        code_prefix=lambda w: code_prefix(GRID.template(w.model, w.benchmark)),
        isolation=config["verification"].get("code_isolation", "auto"),
        logic=logic_version("verify_code"),
    threads: config["verification"]["workers"]
    resources:
        mem_mb=RESOURCES.cpu("verify")["mem_mb"],
        runtime=RESOURCES.cpu("verify")["runtime"],
    conda:
        "../../envs/cpu.yaml"
    log:
        "logs/verify/{model}/{benchmark}/code_exec/shard-{shard}.log",
    script:
        "../scripts/verify_code_samples.py"
