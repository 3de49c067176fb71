"""Cluster resources of each job, from the config's `resources:` section (documented in config.yaml).

The rules declare these as Snakemake `resources:` (gpu, cpus_per_gpu, mem_mb, runtime in minutes),
which the SLURM executor turns into `--gpus`, `--cpus-per-gpu`, `--mem` and `-t`. Site settings
(account, partitions) belong to the profile (slurm/config.yaml), not here.

    resources:
      sampling:                 # one job = one shard of one (model, benchmark)
        gpus_per_job: null      # null: the model's tensor_parallel_size; 0: a CPU job
        cpus_per_gpu: 8
        mem_mb_per_gpu: 64000   # host memory, per GPU (mem_mb: a fixed amount instead)
        runtime: 1440           # minutes
        models: {dapo-qwen-32b: {runtime: 2880}}   # per-model overrides of the keys above
      build_tiny_model: {mem_mb: 4000, runtime: 60}
      verify: {mem_mb: 8000, runtime: 240}        # threads: verification.workers
      metrics: {mem_mb: 4000, runtime: 30}        # pass@k per model, tables, figures
"""

from __future__ import annotations

import copy

from rlvr_eval.planning.config import checkpoint_model_name

SAMPLING_KEYS = ("gpus_per_job", "cpus_per_gpu", "mem_mb_per_gpu", "mem_mb", "runtime")
CPU_STAGES = ("build_tiny_model", "verify", "metrics")
CPU_KEYS = ("mem_mb", "runtime")

DEFAULTS: dict = {
    "sampling": {"gpus_per_job": None, "cpus_per_gpu": 8, "mem_mb_per_gpu": 64000, "mem_mb": None, "runtime": 1440,
                 "models": {}},
    "build_tiny_model": {"mem_mb": 4000, "runtime": 60},
    "verify": {"mem_mb": 8000, "runtime": 240},
    "metrics": {"mem_mb": 4000, "runtime": 30},
}


class ResourceConfigError(ValueError):
    pass


def _check_keys(where: str, given: dict, allowed, values: bool = True) -> None:
    if not isinstance(given, dict):
        raise ResourceConfigError(f"{where}: expected a mapping, got {given!r}")
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise ResourceConfigError(f"unknown key {', '.join(map(repr, unknown))} in {where} "
                                  f"(allowed: {', '.join(sorted(allowed))})")
    for key, value in given.items() if values else ():
        if key == "models":
            continue
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ResourceConfigError(f"{where}.{key}: expected a non-negative integer or null, got {value!r}")


def resolve(config: dict) -> dict:
    """The config's `resources` merged over DEFAULTS, checked (unknown keys and bad values raise)."""
    given = config.get("resources") or {}
    _check_keys("resources", given, DEFAULTS, values=False)
    out = copy.deepcopy(DEFAULTS)
    sampling = given.get("sampling", {})
    _check_keys("resources.sampling", sampling, (*SAMPLING_KEYS, "models"))
    models = sampling.get("models", {}) or {}
    if not isinstance(models, dict):
        raise ResourceConfigError("resources.sampling.models: expected a mapping of model name -> overrides")
    for model, overrides in models.items():
        if model not in config.get("models", {}):
            raise ResourceConfigError(f"resources.sampling.models.{model}: not a model of this config")
        _check_keys(f"resources.sampling.models.{model}", overrides, SAMPLING_KEYS)
    out["sampling"].update({k: v for k, v in sampling.items() if k != "models"})
    out["sampling"]["models"] = copy.deepcopy(models)
    for model, spec in config.get("models", {}).items():  # a listed checkpoint runs like its series model
        for c in spec.get("checkpoints", []) if model in models else []:
            if "model" not in c:
                out["sampling"]["models"].setdefault(checkpoint_model_name(model, c["step"]), copy.deepcopy(models[model]))
    for stage in CPU_STAGES:
        _check_keys(f"resources.{stage}", given.get(stage, {}), CPU_KEYS)
        out[stage].update(given.get(stage, {}))
    return out


class JobResources:
    def __init__(self, config: dict):
        self.config = config
        self.settings = resolve(config)
        for model, spec in config.get("models", {}).items():  # vLLM needs a GPU per tensor-parallel rank
            backend = spec.get("backend", config.get("sampling", {}).get("backend", "vllm"))
            tp = spec.get("tensor_parallel_size", 1)
            if backend == "vllm" and self.sampling(model)["gpu"] < tp:
                raise ResourceConfigError(f"resources.sampling: model {model} runs vLLM with tensor_parallel_size {tp} "
                                          f"but its jobs would get {self.sampling(model)['gpu']} GPU(s)")

    def sampling(self, model: str) -> dict:
        """gpu, cpus_per_gpu, mem_mb, runtime, nodes of one job that runs `model` (sampling, perplexity)."""
        s = {**self.settings["sampling"], **self.settings["sampling"]["models"].get(model, {})}
        gpus = s["gpus_per_job"]
        if gpus is None:
            gpus = self.config["models"][model].get("tensor_parallel_size", 1)
        mem = s["mem_mb"] if s["mem_mb"] is not None else s["mem_mb_per_gpu"] * max(gpus, 1)
        # nodes=1: tensor-parallel ranks share one engine, which cannot span nodes (sbatch --nodes=1)
        return {"gpu": gpus, "cpus_per_gpu": s["cpus_per_gpu"], "mem_mb": mem, "runtime": s["runtime"], "nodes": 1}

    def cpu(self, stage: str) -> dict:
        """mem_mb and runtime of a CPU job: stage is one of CPU_STAGES."""
        return dict(self.settings[stage])
