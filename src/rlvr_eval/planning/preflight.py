"""Checks that run when Snakemake reads the config, before any job starts (or deletes an output).

What the schema cannot see: local model directories that do not exist, hub benchmarks without a pinned revision,
a `limit` larger than the benchmark, and sampling lengths that cannot fit a staged model's context. Each failure is a `ConfigError` naming the key.
"""

from __future__ import annotations

import json
from pathlib import Path

from rlvr_eval.data.benchmarks import KNOWN_SOURCES, get_spec
from rlvr_eval.planning.config import ConfigError
from rlvr_eval.planning.grid import Grid
from rlvr_eval.models.staging import PLACEHOLDER, is_pinned


def model_context(model_dir: str | Path) -> int | None:
    """The context length a model directory declares (config.json max_position_embeddings; None if unknown)."""
    config = Path(model_dir) / "config.json"
    if not config.is_file():
        return None
    data = json.loads(config.read_text())
    for section in (data, data.get("text_config") or {}):
        if isinstance(section.get("max_position_embeddings"), int):
            return section["max_position_embeddings"]
    return None


def check_local_models(grid: Grid) -> None:
    for name in grid.models_of_kind("path"):
        path = Path(grid.model(name)["path"])
        if not path.is_dir():
            raise ConfigError(f"models.{name}.path: {path} does not exist (or is not a directory)")
        if not (path / "config.json").is_file():
            raise ConfigError(f"models.{name}.path: {path} has no config.json: not a Hugging Face model directory")


def check_hub_revisions(grid: Grid) -> None:
    """Benchmarks read from the hub only at a pinned commit (unless listed in benchmark_source.unpinned_hub)."""
    source = grid.config.get("benchmark_source", {})
    for benchmark in grid.benchmarks:
        if (grid.benchmark_mirror(benchmark) is not None or benchmark in source.get("unpinned_hub", [])
                or "synthetic" in grid.config["benchmarks"][benchmark]):  # generated, not read
            continue
        if not get_spec(benchmark).hub_path:
            raise ConfigError(f"benchmarks.{benchmark}: it has no copy on the Hugging Face hub: read it from "
                              "benchmark_source.mirror_dir (`make data` fetches it there)")
        revision = source.get("hub_revisions", {}).get(benchmark)
        if not is_pinned(revision):
            raise ConfigError(f"benchmark_source.hub_revisions.{benchmark}: {revision!r} is not a commit hash (40 hex "
                              f"digits): a benchmark is read from the hub only at a pinned revision (or read it from "
                              f"mirror_dir, or list it in benchmark_source.unpinned_hub)")


def check_mirror_files(grid: Grid) -> None:
    """Each benchmark a model is evaluated on and read from the mirror has its file there (one `if_missing:
    leave_out` marks is left out instead, planning.left_out): one error naming the file and the fix."""
    from rlvr_eval.data.benchmarks import mirror_path

    used = {b for m in grid.models for b in grid.benchmarks_of(m)}
    for benchmark in grid.benchmarks:
        mirror = grid.benchmark_mirror(benchmark)
        if benchmark not in used or mirror is None or not Path(mirror).is_dir():  # no mirror at all: doctor's
            continue
        path = mirror_path(benchmark, mirror)
        if not path.is_file():
            raise ConfigError(f"benchmarks.{benchmark}: its file {path} is not in benchmark_source.mirror_dir: "
                              f"`make data MIRROR_DIR={mirror}` fetches it (or set benchmarks.{benchmark}.if_missing: "
                              "leave_out to run without it)")


def check_limits(grid: Grid) -> None:
    if not grid.config.get("benchmark_source", {}).get("check_known_files", True):
        return  # the source may hold more problems than the paper's file: the loader checks the limit
    for benchmark in grid.benchmarks:
        limit = grid.config["benchmarks"][benchmark].get("limit")
        known = KNOWN_SOURCES.get(benchmark)
        if limit is not None and known is not None and limit > known.rows:
            raise ConfigError(f"benchmarks.{benchmark}.limit: {limit} is more than the {known.rows} problems of "
                              f"{benchmark}; leave `limit` out to use them all")


def check_sampling_lengths(grid: Grid, manifests_dir: str | Path = "results/models") -> None:
    """max_new_tokens (and max_model_len) against the context of every model already staged or built."""
    for name in grid.models:
        manifest = Path(manifests_dir) / f"{name}.json"
        if not manifest.is_file():
            continue  # not staged yet: the sampling job checks it (before generating anything)
        try:
            context = model_context(json.loads(manifest.read_text())["path"])
        except (OSError, ValueError, KeyError):
            continue
        if context is None:
            continue
        max_model_len = grid.model(name).get("max_model_len")
        if max_model_len is not None and max_model_len > context:
            raise ConfigError(f"models.{name}.max_model_len: {max_model_len} exceeds the model's own context of "
                              f"{context} tokens")
        limit = max_model_len or context
        for benchmark in grid.benchmarks_of(name):
            max_new = grid.sampling_params(name, benchmark).max_new_tokens
            if max_new > limit:
                raise ConfigError(f"{grid.sampling_key(name, benchmark, 'max_new_tokens')}: {max_new} new tokens cannot "
                                  f"fit model {name}'s context of {limit} tokens (prompt included); at most {limit - 1}")


def check_visual_benchmarks(grid: Grid) -> None:
    """Every image of a visual benchmark read from the mirror (MathVista: from `images_dir`) exists and has the
    size its annotation records; the first that does not is named."""
    from rlvr_eval.data.visual import VISUAL_BENCHMARKS, VisualBenchmarkError, options_for, selected_images

    for name in grid.benchmarks:
        spec, mirror = grid.config["benchmarks"][name], grid.benchmark_mirror(name)
        if name not in VISUAL_BENCHMARKS or mirror is None:
            continue
        try:
            selected_images(name, mirror, options_for(name, spec), spec.get("limit"))
        except VisualBenchmarkError as e:
            raise ConfigError(str(e)) from None


def check_placeholders(grid: Grid) -> None:
    """A model that only holds a place (config.yaml's stand-in for a checkpoint that is not public) stops the plan,
    unless the config leaves it out: staging it would fail, and every output over all models with it."""
    for name in grid.models_of_kind("hf_id"):
        hf_id = grid.model(name)["hf_id"]
        if hf_id.startswith(PLACEHOLDER):
            pairs = [p["name"] for p in grid.pairs if name in (p["base"], p["rl"])]
            raise ConfigError(f"models.{name}.hf_id: {hf_id!r} is a placeholder: set `path:` to your checkpoint's "
                              f"directory or `hf_id:` to a published one, or `enabled: false` to leave the model "
                              f"out{' (and pair ' + ', '.join(pairs) + ')' if pairs else ''}")


def check_before_jobs(grid: Grid) -> None:
    check_placeholders(grid)
    check_local_models(grid)
    check_hub_revisions(grid)
    check_visual_benchmarks(grid)
    check_mirror_files(grid)
    check_limits(grid)
    check_sampling_lengths(grid)


def job_environment_problems(grid: Grid, conda: bool) -> list[str]:
    """What the jobs' Python lacks for this grid. Jobs run the Python that runs Snakemake (locally, and on SLURM,
    whose jobs inherit its environment), unless conda environments are on (`--sdm conda`: envs/). Checked before
    the first job, not at planning, so that a dry run works anywhere; a missing vLLM would otherwise fail every
    sampling job on a GPU node, after its queueing."""
    import importlib.util
    import sys

    vllm_models = [m for m in grid.sampled_models if grid.backend(m) == "vllm"]
    if conda or not vllm_models or importlib.util.find_spec("vllm") is not None:
        return []
    return [f"models {', '.join(vllm_models)} use the vllm backend, but the Python that runs Snakemake and its jobs "
            f"({sys.executable}) has no vLLM: install it there (`make install-cluster` on a GPU cluster, "
            "`make install-vllm` for vLLM's CPU build and run .venv-vllm/bin/snakemake), or run with conda "
            "environments (`--sdm conda`, envs/sampling-vllm.yaml)"]
