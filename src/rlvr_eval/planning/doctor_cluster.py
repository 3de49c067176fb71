"""`rlvr-eval doctor`'s checks against the SLURM cluster (planning.slurm_info): the profile's accounts are the
user's, its partitions exist, every job's runtime fits its partition's MaxTime, and a GPU job's GPUs fit on one node
of its partition (a tensor-parallel engine cannot span nodes). Each problem names the setting to change."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rlvr_eval.planning import slurm_info
from rlvr_eval.planning.profile import Profile, minutes
from rlvr_eval.planning.resources import ESTIMATE
from rlvr_eval.planning.shard_time import sample_job

CPU_RULES = {"verify": "verify", "passk_metrics": "metrics", "build_tiny_model": "build_tiny_model"}


@dataclass
class Job:
    """The jobs of one rule and model (or CPU stage) as the cluster will see them."""
    rule: str
    what: str  # the model, or the stage
    gpus: int
    runtime: int  # minutes
    runtime_key: str  # the setting that sets the runtime
    gpu_key: str | None = None  # the setting that sets the GPU count


def _sampling_key(resources, model: str, key: str) -> str:
    own = resources.settings["sampling"]["models"].get(model, {})
    return f"resources.sampling.models.{model}.{key}" if key in own else f"resources.sampling.{key}"


def _gpu_key(resources, model: str) -> str:
    if resources.setting(model, "gpus_per_job") is None:
        return f"models.{model}.tensor_parallel_size"
    return _sampling_key(resources, model, "gpus_per_job")


def planned_jobs(grid, profile: Profile) -> list[Job]:
    """Every kind of job the grid submits: sampling, perplexity and entropy per model, the CPU stages."""
    resources = grid.shard_times.resources
    jobs = []
    for m in grid.sampled_models:
        if not grid.benchmarks_of(m):
            continue
        r = resources.sampling(m)
        estimated = resources.setting(m, "runtime") == ESTIMATE
        runtime = max(sample_job(grid, m, b).runtime for b in grid.benchmarks_of(m))
        jobs.append(Job("sample", m, r["gpu"], runtime,
                        _sampling_key(resources, m, "max_runtime" if estimated else "runtime"), _gpu_key(resources, m)))
    longest: dict[str, int] = {}  # sampling.shards_per_job: a model's longest job of several shards
    for name, group in grid.sample_groups.items():
        longest[group["model"]] = max(longest.get(group["model"], 0), grid.sample_group_resources(name)["runtime"])
    for m in sorted(longest):
        estimated = resources.setting(m, "runtime") == ESTIMATE
        jobs.append(Job("sample_group", m, resources.sampling(m)["gpu"], longest[m],
                        _sampling_key(resources, m, "max_runtime" if estimated else "runtime"), _gpu_key(resources, m)))
    largest_group: dict[str, int] = {}  # a scoring model's longest job: its group with the most response sets
    for sets in grid.perplexity_groups.values():
        m = sets[0]["scored_model"]
        largest_group[m] = max(largest_group.get(m, 0), len(sets))
    for m in sorted(largest_group):
        r = resources.perplexity(m, largest_group[m])
        jobs.append(Job("perplexity", m, r["gpu"], r["runtime"], "resources.perplexity.runtime", _gpu_key(resources, m)))
    for m in grid.entropy_models():  # a transformers scoring pass of the model over its own responses
        r = resources.perplexity(m, len(grid.entropy_sets(m)))
        jobs.append(Job("entropy", m, r["gpu"], r["runtime"], "resources.perplexity.runtime", _gpu_key(resources, m)))
    for rule, stage in CPU_RULES.items():
        if stage != "build_tiny_model" or grid.models_of_kind("tiny") or grid.models_of_kind("rlvr"):
            jobs.append(Job(rule, stage, 0, resources.cpu(stage)["runtime"], f"resources.{stage}.runtime"))
    for job in jobs:  # the profile's set-resources win over the config
        value, where = profile.setting(job.rule, "runtime")
        if where and where.startswith("set-resources") and minutes(value) is not None:
            job.runtime, job.runtime_key = minutes(value), where
    return jobs


def check_accounts(profile: Profile, problems: list, notes: list) -> None:
    mine = slurm_info.accounts()
    given = [(profile.default.get("slurm_account"), "default-resources.slurm_account")]
    given += [(r.get("slurm_account"), f"set-resources.{rule}.slurm_account") for rule, r in profile.rules.items()]
    given = [(v, where) for v, where in given if v]
    if mine is None:
        notes.append("SLURM accounts not checked: `sacctmgr` is missing or fails here")
    for value, where in given if mine else ():
        for account in (a for a in re.split(r"[,\s]+", str(value)) if a):
            if account.lower() not in mine:
                problems.append(f"{where}: account {account!r} is not one of {slurm_info.user()}'s "
                                f"({', '.join(sorted(mine))}): set one of them in {profile.path}")
    if "slurm_account" not in profile.default:
        default = slurm_info.default_account()
        if default == "":
            problems.append(f"default-resources.slurm_account: not set, and {slurm_info.user()} has no default SLURM "
                            f"account: set `slurm_account: <one of {', '.join(sorted(mine or [])) or 'your accounts'}>` "
                            f"under default-resources in {profile.path}")


def _partition(rule: str, profile: Profile, partitions: dict, problems: list, reported: set):
    """(partition, the setting that picks it) of `rule`'s jobs; (None, _) after reporting why there is none."""
    value, where = profile.setting(rule, "slurm_partition")
    names = ", ".join(sorted(partitions))
    if value is None:
        default = next((p for p in partitions.values() if p.default), None)
        if default is None and "default" not in reported:
            reported.add("default")
            problems.append(f"default-resources.slurm_partition: not set, and the cluster has no default partition: "
                            f"set one of {names} in {profile.path}")
        return default, f"set-resources.{rule}.slurm_partition"
    if str(value) not in partitions:
        if where not in reported:
            reported.add(where)
            problems.append(f"{where}: partition {value!r} does not exist or is not open to you (sinfo: {names}): "
                            f"set one of them in {profile.path}")
        return None, where
    return partitions[str(value)], where


def check_cluster(grid, profile: Profile, problems: list, notes: list) -> None:
    partitions = slurm_info.partitions()
    if partitions is None:
        problems.append("slurm: `sinfo` is missing or fails here: run `rlvr-eval doctor` on the login node where "
                        "`snakemake --profile slurm` submits (or pass --no-slurm to check the rest only)")
        return
    check_accounts(profile, problems, notes)
    reported: set = set()
    too_long: dict[tuple, list[Job]] = {}
    for job in planned_jobs(grid, profile):
        partition, where = _partition(job.rule, profile, partitions, problems, reported)
        if partition is None:
            continue
        if partition.max_minutes is not None and job.runtime > partition.max_minutes:
            too_long.setdefault((job.runtime_key, partition.name), []).append(job)
        if job.gpus <= 0:
            continue
        gpu_model = profile.setting(job.rule, "gpu_model")[0]
        per_node = partition.gpus_per_node(gpu_model)
        kind = f" {gpu_model}" if gpu_model else ""
        if per_node == 0 and (where, kind) not in reported:
            reported.add((where, kind))
            with_gpus = ", ".join(sorted(n for n, p in partitions.items() if p.gpus_per_node(gpu_model))) or "none"
            problems.append(f"{where}: {job.rule} jobs ask for{kind} GPUs but partition {partition.name!r} has none "
                            f"(sinfo %G: {', '.join(partition.gres_text)}): set a partition with{kind} GPUs "
                            f"({with_gpus}) in {profile.path}")
        elif 0 < per_node < job.gpus and (job.gpu_key, partition.name) not in reported:
            reported.add((job.gpu_key, partition.name))
            problems.append(f"{job.gpu_key}: {job.what}'s jobs need {job.gpus}{kind} GPUs on one node, partition "
                            f"{partition.name!r} has at most {per_node} per node: set {per_node} or fewer (a smaller "
                            f"max_model_len may then be needed), or a partition with larger nodes")
    for (key, name), jobs in too_long.items():
        limit = partitions[name]
        longest = max(j.runtime for j in jobs)
        who = ", ".join(sorted({j.what for j in jobs})[:4]) + (" ..." if len({j.what for j in jobs}) > 4 else "")
        hint = " (fit_shard_size then makes shards smaller)" if key.endswith("max_runtime") else ""
        problems.append(f"{key}: {jobs[0].rule} jobs ask for up to {longest} min ({who}), partition {name!r} allows "
                        f"{limit.max_minutes} (MaxTime {limit.time_text}): set it to {limit.max_minutes} or less{hint}")
