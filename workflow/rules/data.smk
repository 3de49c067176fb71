# Benchmarks -> canonical problem tables (schema: rlvr_eval.benchmarks).


def benchmark_source_files(wildcards):
    mirror = config["benchmark_source"]["mirror_dir"]
    if mirror is None or "synthetic" in config["benchmarks"][wildcards.benchmark]:
        return []
    from rlvr_eval.benchmarks import mirror_path

    return [str(mirror_path(wildcards.benchmark, mirror))]


rule prepare_benchmark:
    input:
        benchmark_source_files,
    output:
        "results/data/{benchmark}.parquet",
    params:
        mirror_dir=config["benchmark_source"]["mirror_dir"],
        hub_revision=lambda w: config["benchmark_source"]["hub_revisions"].get(w.benchmark),
        limit=lambda w: config["benchmarks"][w.benchmark].get("limit"),
        synthetic=lambda w: config["benchmarks"][w.benchmark].get("synthetic"),
        split="test",
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
        synthetic=lambda w: config["benchmarks"][w.benchmark]["synthetic"],
        split="train",
        logic=logic_version("data"),
    conda:
        "../../envs/cpu.yaml"
    log:
        "logs/data/train/{benchmark}.log",
    localrule: True  # generated in seconds
    script:
        "../scripts/prepare_benchmark.py"
