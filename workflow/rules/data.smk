# Benchmarks -> canonical problem tables (schema: rlvr_eval.data.benchmarks).


rule prepare_benchmark:
    input:
        benchmark_source_files,
    output:
        "results/data/{benchmark}.parquet",
    params:
        mirror_dir=lambda w: GRID.benchmark_mirror(w.benchmark),
        hub_revision=lambda w: config["benchmark_source"]["hub_revisions"].get(w.benchmark),
        limit=lambda w: config["benchmarks"][w.benchmark].get("limit"),
        problem_ids=lambda w: config["benchmarks"][w.benchmark].get("problem_ids"),
        check_known_files=config["benchmark_source"]["check_known_files"],
        synthetic=lambda w: config["benchmarks"][w.benchmark].get("synthetic"),
        split="test",
        visual=visual_options,
        hub_images_dir=lambda w: f"resources/data/{w.benchmark}/images" if visual_options(w) else None,
        window=lambda w: config["benchmarks"][w.benchmark].get("window"),
        logic=logic_version("data"),
    conda:
        "../../envs/cpu.yaml"
    log:
        "logs/data/{benchmark}.log",
    localrule: True  # may download from the hub: runs where the network is (the login node)
    script:
        "../scripts/prepare_benchmark.py"


rule prepare_train_split:
    output:
        "results/data/train/{benchmark}.parquet",
    wildcard_constraints:
        benchmark=regex_of([b for b in GRID.benchmarks if "synthetic" in config["benchmarks"][b]]),
    params:
        mirror_dir=None,
        hub_revision=None,
        limit=None,
        problem_ids=None,
        check_known_files=False,
        synthetic=lambda w: config["benchmarks"][w.benchmark]["synthetic"],
        split="train",
        visual=None,
        hub_images_dir=None,
        window=None,
        logic=logic_version("data"),
    conda:
        "../../envs/cpu.yaml"
    log:
        "logs/data/train/{benchmark}.log",
    localrule: True  # generated in seconds
    script:
        "../scripts/prepare_benchmark.py"
