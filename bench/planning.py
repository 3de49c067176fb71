"""Planning time: `snakemake -n` of this workflow against a bare Snakefile of the same shape, in the same run
(issue #15): 40 models x 12 benchmarks x 32 shards, every shard verified by two graders.

    .venv/bin/python bench/planning.py [--models 40] [--benchmarks 12] [--shards 32] [--profile-top 25]

The grid: 20 (base, RL) pairs of hub models at pinned revisions; the six math benchmarks of the mirror plus
synthetic arithmetic benchmarks up to --benchmarks, each limited to 16 problems, n = 128 samples per problem in --shards shards
(32 shards); `compare_graders: [math_verify, qwen_math]`. The bare Snakefile has the same rules, wildcards and
per-shard jobs (staging, data, sampling, verification per grader, metrics per grader, one table per benchmark)
with static inputs and `shell: "touch"`: what Snakemake itself costs for a DAG of that size. The project's plan
also holds the analyses, tables and figures per pair (a few hundred jobs more); both job counts are printed.
--profile-top N also runs the project's plan under cProfile and prints the N most expensive functions.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import re
import subprocess
import sys
import time
from pathlib import Path

import psutil
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import MIRROR, REPO, cache_dir  # noqa: E402

MATH = ["gsm8k", "math500", "minerva_math", "olympiadbench", "aime24", "amc23"]


def grid_config(models: int, benchmarks: int, shards: int) -> dict:
    problems, n = 16, 128
    shard_size = n // shards  # shards split the n samples of every problem
    config = {
        "benchmark_source": {"mirror_dir": str(MIRROR / "benchmarks")},
        "models": {}, "pairs": [], "benchmarks": {},
        "sampling": {"temperature": 0.6, "top_p": 0.95, "max_new_tokens": 1024, "seed": 0,
                     "shard_size": shard_size},
        "verification": {"grader": "math_verify", "compare_graders": ["math_verify", "qwen_math"], "workers": 2},
    }
    for p in range(models // 2):
        for role in ("base", "rl"):
            config["models"][f"{role}-{p}"] = {"hf_id": f"org/{role}-{p}", "revision": f"{p:040x}", "role": role,
                                               "prompt_template": "qwen-boxed"}
        config["pairs"].append({"name": f"pair-{p}", "base": f"base-{p}", "rl": f"rl-{p}"})
    for i in range(benchmarks):
        if i < len(MATH):
            config["benchmarks"][MATH[i]] = {"n": n, "limit": problems}
        else:
            config["benchmarks"][f"arith{i}"] = {"n": n, "synthetic": {"seed": i, "difficulty": 2, "problems": problems,
                                                                      "train_problems": 100}}
    return config


def bare_snakefile(config: dict, shards: int) -> str:
    models, benchmarks = list(config["models"]), list(config["benchmarks"])
    graders = config["verification"]["compare_graders"]
    return f'''
MODELS, BENCHMARKS, GRADERS = {models!r}, {benchmarks!r}, {graders!r}
SHARDS = [f"{{i:04d}}" for i in range({shards})]

rule all:
    input:
        expand("results/tables/passk/{{b}}.csv", b=BENCHMARKS),

rule stage:
    output: "results/models/{{model}}.json"
    shell: "touch {{output}}"

rule data:
    output: "results/data/{{benchmark}}.parquet"
    shell: "touch {{output}}"

rule sample:
    input: problems="results/data/{{benchmark}}.parquet", model="results/models/{{model}}.json"
    output: "results/samples/{{model}}/{{benchmark}}/shard-{{shard}}.parquet"
    log: "logs/sample/{{model}}/{{benchmark}}/shard-{{shard}}.log"
    shell: "touch {{output}}"

rule verify:
    input: samples="results/samples/{{model}}/{{benchmark}}/shard-{{shard}}.parquet",
           problems="results/data/{{benchmark}}.parquet"
    output: "results/verdicts/{{model}}/{{benchmark}}/{{grader}}/shard-{{shard}}.parquet"
    log: "logs/verify/{{model}}/{{benchmark}}/{{grader}}/shard-{{shard}}.log"
    shell: "touch {{output}}"

rule metrics:
    input: expand("results/verdicts/{{{{model}}}}/{{{{benchmark}}}}/{{{{grader}}}}/shard-{{s}}.parquet", s=SHARDS)
    output: "results/metrics/{{model}}/{{benchmark}}/{{grader}}/per_problem.parquet"
    shell: "touch {{output}}"

rule table:
    input: expand("results/metrics/{{m}}/{{{{benchmark}}}}/{{g}}/per_problem.parquet", m=MODELS, g=GRADERS)
    output: "results/tables/passk/{{benchmark}}.csv"
    shell: "touch {{output}}"
'''


def plan(snakefile: Path, configfile: Path | None, workdir: Path, cwd: Path) -> dict:
    command = [str(REPO / ".venv" / "bin" / "snakemake"), "-n", "--quiet", "rules", "-s", str(snakefile),
               "-d", str(workdir), "--cores", "1"]
    if configfile is not None:
        command += ["--configfile", str(configfile)]
    started = time.monotonic()
    process = psutil.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak, cpu = 0, 0.0
    while process.poll() is None:
        try:
            peak = max(peak, process.memory_info().rss)
            times = process.cpu_times()
            cpu = times.user + times.system
        except psutil.Error:
            pass
        time.sleep(0.2)
    out = process.stdout.read()
    wall = time.monotonic() - started
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{out[-3000:]}")
    jobs = sum(int(m.group(1)) for m in re.finditer(r"^\S+\s+(\d+)\s*$", out, re.M) if not m.group(0).startswith("total"))
    total = re.search(r"^total\s+(\d+)", out, re.M)
    return {"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": peak / 2**20, "jobs": int(total.group(1)) if total else jobs,
            "output": out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=40)
    parser.add_argument("--benchmarks", type=int, default=12)
    parser.add_argument("--shards", type=int, default=32)
    parser.add_argument("--profile-top", type=int, default=0)
    args = parser.parse_args()

    root = cache_dir() / "planning" / f"{args.models}x{args.benchmarks}x{args.shards}"
    (root / "bare").mkdir(parents=True, exist_ok=True)
    (root / "project").mkdir(parents=True, exist_ok=True)
    config = grid_config(args.models, args.benchmarks, args.shards)
    configfile = root / "config.yaml"
    configfile.write_text(yaml.safe_dump(config, sort_keys=False))
    (root / "bare" / "Snakefile").write_text(bare_snakefile(config, args.shards))
    print(f"{args.models} models x {args.benchmarks} benchmarks x {args.shards} shards, 2 graders; machine: "
          f"{psutil.cpu_count()} cores, load average {psutil.getloadavg()[0]:.1f} (shared with other engineers' jobs)")

    bare = plan(root / "bare" / "Snakefile", None, root / "bare", root / "bare")
    project = plan(REPO / "Snakefile", configfile, root / "project", REPO)
    for name, r in (("bare Snakefile", bare), ("this workflow", project)):
        print(f"{name:15s} {r['jobs']:7,d} jobs: {r['wall_s']:6.1f} s wall, {r['cpu_s']:6.1f} s CPU, "
              f"peak RSS {r['peak_rss_mb']:5.0f} MB")
    print(f"ratio (this workflow / bare): {project['wall_s'] / bare['wall_s']:.2f}x wall, "
          f"{project['cpu_s'] / bare['cpu_s']:.2f}x CPU; per job: {project['cpu_s'] / project['jobs'] * 1e3:.2f} ms "
          f"against {bare['cpu_s'] / bare['jobs'] * 1e3:.2f} ms")

    if args.profile_top:
        from snakemake.cli import main as snakemake_main

        profiler = cProfile.Profile()
        argv = ["snakemake", "-n", "--quiet", "rules", "-s", str(REPO / "Snakefile"), "-d", str(root / "project"),
                "--cores", "1", "--configfile", str(configfile)]
        sys.argv = argv
        profiler.enable()
        try:
            snakemake_main(argv[1:])
        except SystemExit:
            pass
        profiler.disable()
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(args.profile_top)
        print(stream.getvalue())


if __name__ == "__main__":
    main()
