"""Cluster resources of each job, from the config's `resources:` section (documented in config.yaml).

The rules declare these as Snakemake `resources:` (gpu, cpus_per_gpu, mem_mb, runtime in minutes),
which the SLURM executor turns into `--gpus`, `--cpus-per-gpu`, `--mem` and `-t`. Site settings
(account, partitions) belong to the profile (slurm/config.yaml), not here.

    resources:
      sampling:                 # one job = one shard of one (model, benchmark)
        gpus_per_job: null      # null: the model's tensor_parallel_size; 0: a CPU job
        cpus_per_gpu: 8
        mem_mb_per_gpu: 64000   # host memory, per GPU (mem_mb: a fixed amount instead)
        runtime: 1440           # minutes; `estimate`: from the shard's tokens (planning.shard_time), <= max_runtime
        max_runtime: 1440       # minutes: the cap of estimated runtimes
        startup_minutes: 15     # engine start and weight loading, added to each estimate
        expected_length: 0.5    # share of max_new_tokens an average response takes
        gpu_mem_gb: null        # memory of one GPU, for `rlvr-eval doctor` (null: not checked)
        models: {dapo-qwen-32b: {runtime: 2880}}   # per-model overrides of the keys above (and throughput)
      perplexity: {runtime: 120}                  # scoring jobs, per response set: GPUs and memory as the model samples
      throughput_tokens_per_s: {7B: 1500}         # generated tokens per second of one sampling job, by size
      model_shapes: {7B: {params_b: 7.62, layers: 28, kv_heads: 4, head_dim: 128, context: 131072}}
      build_tiny_model: {mem_mb: 4000, runtime: 60}
      verify: {mem_mb: 8000, runtime: 240}        # threads: verification.workers
      metrics: {mem_mb: 4000, runtime: 30}        # pass@k per model, tables, figures
"""

from __future__ import annotations

import copy

from rlvr_eval.planning.config import checkpoint_model_name

SAMPLING_KEYS = ("gpus_per_job", "cpus_per_gpu", "mem_mb_per_gpu", "mem_mb", "runtime", "max_runtime",
                 "startup_minutes", "expected_length", "gpu_mem_gb")
MODEL_KEYS = (*SAMPLING_KEYS, "throughput_tokens_per_s")  # a model's own throughput: e.g. when it gets more GPUs
CPU_STAGES = ("build_tiny_model", "verify", "metrics")
CPU_KEYS = ("mem_mb", "runtime")
ESTIMATE = "estimate"  # resources.sampling.runtime: from each shard's tokens instead of a fixed limit

# The paper's models by size class: Qwen2.5-7B (and its Math, Instruct-1M, R1-distilled, Coder and VL versions'
# language model), Llama-3.1-8B, Qwen2.5-14B, Qwen2.5-32B, from their config.json. They price weights and KV cache
# before a model is staged (a staged model's own config.json wins: planning.model_shapes).
MODEL_SHAPES = {
    "7B": {"params_b": 7.62, "layers": 28, "kv_heads": 4, "head_dim": 128, "context": 131072},
    "8B": {"params_b": 8.03, "layers": 32, "kv_heads": 8, "head_dim": 128, "context": 131072},
    "14B": {"params_b": 14.77, "layers": 48, "kv_heads": 8, "head_dim": 128, "context": 131072},
    "32B": {"params_b": 32.76, "layers": 64, "kv_heads": 8, "head_dim": 128, "context": 131072},
}
SHAPE_KEYS = ("params_b", "layers", "kv_heads", "head_dim", "context")

DEFAULTS: dict = {
    "sampling": {"gpus_per_job": None, "cpus_per_gpu": 8, "mem_mb_per_gpu": 64000, "mem_mb": None, "runtime": 1440,
                 "max_runtime": 1440, "startup_minutes": 15, "expected_length": 0.5, "gpu_mem_gb": None,
                 "models": {}},
    "perplexity": {"runtime": 120},
    # Conservative vLLM decode rates of one job (one A100/H100-80GB per tensor-parallel rank: the 32B on two), about
    # half of what the KV cache lets it batch at 16k-token responses: estimates may run long, rarely short.
    "throughput_tokens_per_s": {"7B": 1500, "8B": 800, "14B": 400, "32B": 500},
    "model_shapes": MODEL_SHAPES,
    "build_tiny_model": {"mem_mb": 4000, "runtime": 60},
    "verify": {"mem_mb": 8000, "runtime": 240},
    "metrics": {"mem_mb": 4000, "runtime": 30},
}


class ResourceConfigError(ValueError):
    pass


def _is_number(value, integer: bool = False) -> bool:
    return not isinstance(value, bool) and isinstance(value, int if integer else (int, float))


def _check_value(where: str, key: str, value) -> None:
    if key == "runtime" and value == ESTIMATE:
        return
    if key == "expected_length":
        if not (_is_number(value) and 0 < value <= 1):
            raise ResourceConfigError(f"{where}.{key}: expected a share of max_new_tokens in (0, 1], got {value!r}")
    elif key in ("gpu_mem_gb", "throughput_tokens_per_s"):
        if not (value is None and key == "gpu_mem_gb") and not (_is_number(value) and value > 0):
            raise ResourceConfigError(f"{where}.{key}: expected a positive number, got {value!r}")
    elif value is not None and not (_is_number(value, integer=True) and value >= 0):
        raise ResourceConfigError(f"{where}.{key}: expected a non-negative integer or null"
                                  f"{' or estimate' if key == 'runtime' else ''}, got {value!r}")


def _check_keys(where: str, given: dict, allowed, values: bool = True) -> None:
    if not isinstance(given, dict):
        raise ResourceConfigError(f"{where}: expected a mapping, got {given!r}")
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise ResourceConfigError(f"unknown key {', '.join(map(repr, unknown))} in {where} "
                                  f"(allowed: {', '.join(sorted(allowed))})")
    for key, value in given.items() if values else ():
        if key != "models":
            _check_value(where, key, value)


def _by_size(where: str, given, check) -> dict:
    """A table keyed by size class ("7B", "1.5B"), each value checked by `check`."""
    if not isinstance(given, dict):
        raise ResourceConfigError(f"{where}: expected a mapping of size class (e.g. 7B) -> value, got {given!r}")
    for size, value in given.items():
        if not (isinstance(size, str) and size.endswith("B") and size[:-1].replace(".", "", 1).isdigit()):
            raise ResourceConfigError(f"{where}: {size!r} is not a size class such as 7B or 1.5B")
        check(f"{where}.{size}", value)
    return copy.deepcopy(given)


def _check_shape(where: str, shape) -> None:
    _check_keys(where, shape, SHAPE_KEYS, values=False)
    missing = [k for k in SHAPE_KEYS if k not in shape]
    if missing or not all(_is_number(v) and v > 0 for v in shape.values()):
        raise ResourceConfigError(f"{where}: give positive {', '.join(SHAPE_KEYS)} (missing: {missing or 'none'})")


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
        _check_keys(f"resources.sampling.models.{model}", overrides, MODEL_KEYS)
    out["sampling"].update({k: v for k, v in sampling.items() if k != "models"})
    out["sampling"]["models"] = copy.deepcopy(models)
    for model, spec in config.get("models", {}).items():  # a listed checkpoint runs like its series model
        for c in spec.get("checkpoints", []) if model in models else []:
            if "model" not in c:
                out["sampling"]["models"].setdefault(checkpoint_model_name(model, c["step"]), copy.deepcopy(models[model]))
    for stage in CPU_STAGES:
        _check_keys(f"resources.{stage}", given.get(stage, {}), CPU_KEYS)
        out[stage].update(given.get(stage, {}))
    _check_keys("resources.perplexity", given.get("perplexity", {}), ("runtime",))
    out["perplexity"].update(given.get("perplexity", {}))
    out["throughput_tokens_per_s"].update(_by_size("resources.throughput_tokens_per_s",
                                                   given.get("throughput_tokens_per_s", {}),
                                                   lambda where, v: _check_value(where, "throughput_tokens_per_s", v)))
    out["model_shapes"].update(_by_size("resources.model_shapes", given.get("model_shapes", {}), _check_shape))
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

    def setting(self, model: str, key: str):
        """One resources.sampling key for `model` (its override in resources.sampling.models, else the global one)."""
        own = self.settings["sampling"]["models"].get(model, {})
        if key == "throughput_tokens_per_s":
            return own.get(key)
        return own.get(key, self.settings["sampling"][key])

    def sampling(self, model: str) -> dict:
        """gpu, cpus_per_gpu, mem_mb, runtime, nodes of one job that runs `model` (sampling, perplexity). An estimated
        runtime is per shard (planning.shard_time.sample_job_resources); here it stands at its cap, max_runtime."""
        s = {**self.settings["sampling"], **self.settings["sampling"]["models"].get(model, {})}
        gpus = s["gpus_per_job"]
        if gpus is None:
            gpus = self.config["models"][model].get("tensor_parallel_size", 1)
        mem = s["mem_mb"] if s["mem_mb"] is not None else s["mem_mb_per_gpu"] * max(gpus, 1)
        runtime = s["max_runtime"] if s["runtime"] == ESTIMATE else s["runtime"]
        # nodes=1: tensor-parallel ranks share one engine, which cannot span nodes (sbatch --nodes=1)
        return {"gpu": gpus, "cpus_per_gpu": s["cpus_per_gpu"], "mem_mb": mem, "runtime": runtime, "nodes": 1}

    def perplexity(self, model: str, response_sets: int = 1) -> dict:
        """A scoring job of `model` over `response_sets` sets (analysis.perplexity.group_by): its sampling job's GPUs
        and memory (one set in memory at a time), resources.perplexity.runtime per set (a few hundred responses
        scored, no generation), at most the model's max_runtime: a job cut short resumes from its finished sets."""
        s = self.settings["sampling"]
        cap = self.settings["sampling"]["models"].get(model, {}).get("max_runtime", s["max_runtime"])
        runtime = self.settings["perplexity"]["runtime"] * response_sets
        return {**self.sampling(model), "runtime": min(runtime, max(cap, self.settings["perplexity"]["runtime"]))}

    def cpu(self, stage: str) -> dict:
        """mem_mb and runtime of a CPU job: stage is one of CPU_STAGES."""
        return dict(self.settings[stage])
