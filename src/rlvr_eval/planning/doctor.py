"""`rlvr-eval doctor`: what would stop the paper grid on this cluster, found in seconds before anything is submitted,
one line per problem naming the setting and its fix (exit status 1 on any); notes say what could not be checked.

It reads the config as Snakemake would (the --configfile files merged in order, validated) and the SLURM profile,
from the workflow's directory, and checks
- the cluster (planning.doctor_cluster): accounts, partitions, each job's runtime against its partition's MaxTime,
  each GPU job's GPUs against one node of its partition;
- GPU memory: weights + KV cache of one max_model_len sequence + overhead (planning.model_shapes) within
  GPUs x resources.sampling.gpu_mem_gb x gpu_memory_utilization;
- an HF token for each gated hub model still to stage (`gated: true`, or meta-llama/*);
- vLLM importable by this Python, the one `snakemake` runs on and its jobs inherit (sbatch --export=ALL);
- the benchmark mirror's files, with the sha256 of the paper's (rlvr_eval.data.benchmarks.KNOWN_SOURCES);
- free disk under resources/models for the hub weights still to stage (parameters x 2 bytes);
- each shard's estimated runtime within its job's (planning.shard_time).
"""

from __future__ import annotations

import copy
import importlib.util
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from rlvr_eval.data.benchmarks import KNOWN_SOURCES, mirror_path
from rlvr_eval.io import sha256_file
from rlvr_eval.planning.config import validate_config
from rlvr_eval.planning.doctor_cluster import check_cluster
from rlvr_eval.planning.grid import Grid
from rlvr_eval.planning.model_shapes import GIB, OVERHEAD_GIB, download_bytes, shape_of
from rlvr_eval.planning.profile import Profile, load_profile
from rlvr_eval.planning.shard_time import sample_job

GATED_PREFIXES = ("meta-llama/",)  # every repository of these owners is gated on the hub
MODELS_DIR = "resources/models"  # where stage_model downloads (workflow/rules/models.smk)
MANIFESTS = "results/models"


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def load_configs(paths: list[str | Path]) -> dict:
    """The --configfile files merged as Snakemake merges them (later ones on top, mappings key by key), validated."""
    def merge(base: dict, top: dict) -> dict:
        for key, value in top.items():
            base[key] = merge(base.get(key, {}), value) if isinstance(value, dict) and isinstance(base.get(key), dict) \
                else copy.deepcopy(value)
        return base

    config: dict = {}
    for path in paths:
        merge(config, yaml.safe_load(Path(path).read_text()) or {})
    return validate_config(config)


def to_stage(grid: Grid) -> list[str]:
    """Hub models whose weights are not staged yet (variants share their source's)."""
    return [m for m in grid.models_of_kind("hf_id") if not (Path(MANIFESTS) / f"{m}.json").is_file()]


def check_gpu_memory(grid: Grid, report: Report) -> None:
    resources = grid.shard_times.resources
    scorers = {s for p in grid.pairs for s in grid.perplexity_scorers(p["name"])} if grid.perplexity_enabled() else set()
    for m in grid.sampled_models:
        gpu_gb, gpus = resources.setting(m, "gpu_mem_gb"), resources.sampling(m)["gpu"]
        if gpus == 0 or not grid.benchmarks_of(m) or "tiny" in grid.model(m):
            continue
        if gpu_gb is None:
            note = "GPU memory not checked: set resources.sampling.gpu_mem_gb (GiB of one GPU)"
            report.notes += [note] if note not in report.notes else []
            continue
        shape = shape_of(grid.config, m, MANIFESTS)
        if shape is None:
            report.notes.append(f"models.{m}: GPU memory not checked: no architecture known (stage it, or set "
                                f"models.{m}.size to a class of resources.model_shapes)")
            continue
        util = grid.model(m).get("gpu_memory_utilization", 0.9)
        ppl = grid.analysis.get("perplexity", {}).get("gpu_memory_utilization")
        if m in scorers and ppl:
            util = min(util, ppl)  # the scoring engine gets the smaller share
        length = grid.model(m).get("max_model_len") or shape.context
        have, need = gpus * gpu_gb * GIB * util, shape.gpu_bytes(length, gpus)
        if need <= have:
            continue
        own = "" if "max_model_len" in grid.model(m) else " (the model's own context)"
        longest = shape.longest_context(have, gpus)
        sampled = max(grid.sampling_params(m, b).max_new_tokens for b in grid.benchmarks_of(m))
        fix = (f"set it to at most {longest} (samples need {sampled} new tokens + the prompt)" if longest > sampled
               else f"give it more GPUs ({_gpus_key(grid, m)})")
        report.problems.append(
            f"models.{m}.max_model_len: {length} tokens{own} need {shape.weight_bytes / GIB:.1f} GiB weights + "
            f"{shape.kv_bytes_per_token * length / GIB:.1f} GiB KV cache ({shape.kv_bytes_per_token} B/token = 2 x "
            f"{shape.layers} layers x {shape.kv_heads} KV heads x {shape.head_dim} x {shape.dtype_bytes} B; "
            f"{shape.source}) + {OVERHEAD_GIB * max(gpus, 1):.0f} GiB overhead = {need / GIB:.1f} GiB > {gpus} GPU x "
            f"{gpu_gb} GiB x {util} = {have / GIB:.1f} GiB: {fix}")


def _gpus_key(grid: Grid, m: str) -> str:
    return ("resources.sampling.gpus_per_job" if grid.shard_times.resources.setting(m, "gpus_per_job") is not None
            else f"models.{m}.tensor_parallel_size")


def hf_token() -> str | None:
    """The token staging would send: HF_TOKEN, else huggingface_hub's token file ($HF_TOKEN_PATH, else
    $HF_HOME/token, HF_HOME defaulting to $XDG_CACHE_HOME/huggingface or ~/.cache/huggingface)."""
    token = os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN")
    if token:
        return token.strip()
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    home = os.environ.get("HF_HOME") or os.path.join(cache, "huggingface")
    path = Path(os.environ.get("HF_TOKEN_PATH") or os.path.join(home, "token"))
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def check_hf_token(grid: Grid, report: Report) -> None:
    gated = [m for m in to_stage(grid)
             if grid.model(m).get("gated") or grid.model(m)["hf_id"].startswith(GATED_PREFIXES)]
    if gated and hf_token() is None:
        for m in gated:
            report.problems.append(f"models.{m}.hf_id: {grid.model(m)['hf_id']} is gated and no HF token is set "
                                   f"(HF_TOKEN, or huggingface_hub's token file): accept its licence on the hub, then "
                                   f"run `hf auth login` here, where staging downloads")


def check_vllm(grid: Grid, profile: Profile | None, report: Report) -> None:
    users = [m for m in grid.sampled_models if grid.backend(m) == "vllm" and grid.benchmarks_of(m)]
    if not users:
        return
    if profile is not None and profile.uses_conda:
        report.notes.append("vLLM not checked: the profile runs jobs in conda environments (envs/sampling-vllm.yaml)")
        return
    if importlib.util.find_spec("vllm") is None:  # located, never imported: seconds, and no CUDA needed here
        key = "sampling.backend" if all("backend" not in grid.model(m) for m in users) else f"models.{users[0]}.backend"
        report.problems.append(f"{key}: {len(users)} model(s) sample with vllm, which {sys.executable} (the Python "
                               f"snakemake and its jobs run) cannot import: run `make install-cluster`")


def check_mirror(grid: Grid, report: Report) -> None:
    source = grid.config.get("benchmark_source", {})
    check_sha = source.get("check_known_files", True)
    for b in grid.benchmarks:
        mirror = grid.benchmark_mirror(b)
        if mirror is None:
            continue
        path = mirror_path(b, mirror)
        if not Path(mirror).is_dir():
            report.problems.append(f"benchmark_source.mirror_dir: {mirror} does not exist (from {Path.cwd()}): copy the "
                                   f"paper's benchmark files there (<benchmark>/test.jsonl ...), or set it to null to "
                                   f"read the hub at pinned benchmark_source.hub_revisions")
            return
        known = KNOWN_SOURCES.get(b)
        if not path.is_file():
            report.problems.append(f"benchmark_source.mirror_dir: {path} is missing: copy it there"
                                   f"{f' ({known.origin})' if known else ''}, or list {b} in "
                                   f"benchmark_source.hub_benchmarks")
        elif check_sha and known and sha256_file(path) != known.sha256:
            report.problems.append(f"benchmark_source.mirror_dir: {path} is not the paper's file (sha256 "
                                   f"{sha256_file(path)[:12]}..., the paper's {known.sha256[:12]}... from "
                                   f"{known.origin}): replace it, or set benchmark_source.check_known_files: false")


def check_disk(grid: Grid, report: Report) -> None:
    pending = to_stage(grid)
    sizes = {m: download_bytes(grid.config, m) for m in pending}
    unknown = [m for m, size in sizes.items() if size is None]
    if unknown:
        report.notes.append(f"disk: no size known for {', '.join(unknown)} (models.<m>.size): not counted")
    need = sum(size for size in sizes.values() if size)
    where = Path(MODELS_DIR).absolute()
    while not where.exists():
        where = where.parent
    free = shutil.disk_usage(where).free
    if need > free:
        report.problems.append(f"{MODELS_DIR}: the {len(pending) - len(unknown)} hub models to stage need about "
                               f"{need / 1e9:.0f} GB (parameters x 2 bytes), {where} has {free / 1e9:.0f} GB free: "
                               f"free space, or make {MODELS_DIR} a link to a larger filesystem")


def check_shards(grid: Grid, report: Report) -> None:
    for m in grid.sampled_models:
        for b in grid.benchmarks_of(m):
            job = sample_job(grid, m, b)
            if job.minutes is None or job.minutes <= job.runtime:
                continue
            if b in grid.model(m).get("shard_size", {}):
                key = f"models.{m}.shard_size.{b}"
            elif "shard_size" in grid.config["benchmarks"][b]:
                key = f"benchmarks.{b}.shard_size"
            else:
                key = "sampling.shard_size"
            fix = ("set sampling.fit_shard_size: true (shards shrink until they fit)" if key == "sampling.shard_size"
                   and not grid.config["sampling"].get("fit_shard_size") else "set a smaller one")
            if job.shard_size == 1:
                key, fix = "resources.sampling.max_runtime", "raise it, or lower max_new_tokens or the throughput"
            report.problems.append(f"{key}: {m} on {b}: a shard of {job.shard_size} samples per problem is estimated "
                                   f"at {job.how}, over its job's {job.runtime} min: {fix}")


def shard_table(grid: Grid) -> list[str]:
    """Each sampled model x benchmark's shards: size, count, the runtime asked for and the estimate (--shards)."""
    width = max([14, *(len(b) for m in grid.sampled_models for b in grid.benchmarks_of(m))])  # e.g. livecodebench_2023_05
    lines = [f"{'model':34} {'benchmark':{width}} {'n':>5} {'shard':>5} {'jobs':>4} {'runtime':>7}  estimate"]
    for m in grid.sampled_models:
        for b in grid.benchmarks_of(m):
            job = sample_job(grid, m, b)
            lines.append(f"{m:34} {b:{width}} {grid.n(m, b):5d} {job.shard_size:5d} {len(grid.shards(m, b)):4d} "
                         f"{job.runtime:7d}  {job.how}")
    return lines


def diagnose(config: dict, profile: Profile | None) -> Report:
    """Every check on a validated config; profile None: the cluster is not checked (--no-slurm)."""
    grid, report = Grid(config), Report()
    if profile is not None:
        check_cluster(grid, profile, report.problems, report.notes)
    for check in (check_gpu_memory, check_hf_token, check_mirror, check_disk, check_shards):
        check(grid, report)
    check_vllm(grid, profile, report)
    return report


def run_doctor(configfiles: list[str] | None = None, profile_path: str | None = "", directory: str = ".",
               shards: bool = False) -> int:
    """Print the report; 1 on any problem. Files given are read from here, the defaults (config.yaml, the profile
    slurm/config.yaml) from `directory`, the workflow's working directory; profile_path None: no cluster checks."""
    started = time.monotonic()
    configfiles = [str(Path(f).absolute()) for f in configfiles or []] or ["config.yaml"]
    profile_path = str(Path(profile_path).absolute()) if profile_path else profile_path
    os.chdir(directory)  # relative paths (mirror, results/, resources/) are the workflow's
    config = load_configs(configfiles)
    profile = None if profile_path is None else load_profile(profile_path or "slurm/config.yaml")
    report = diagnose(config, profile)
    if shards:
        print("\n".join(shard_table(Grid(config))))
    for note in report.notes:
        print(f"note: {note}")
    for problem in report.problems:
        print(problem)
    took = time.monotonic() - started
    print(f"doctor: {len(report.problems)} problem(s) in {took:.1f} s ({', '.join(configfiles)}; "
          f"{profile.path if profile else 'no SLURM profile'})", file=sys.stderr)
    return 1 if report.problems else 0
