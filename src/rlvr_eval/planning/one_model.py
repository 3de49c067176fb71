"""`rlvr-eval run`: the config of one model (or one pair) on a few benchmarks, without writing YAML.

The config takes the default config's benchmark settings (`benchmark_source`, each named benchmark's entry),
`sampling`, `verification` and `resources`, and replaces its models and pairs: the model (a hub id, or a local
directory when one exists at that path), and with `pair_with` a base model paired with it. The analyses keep
their defaults. The result is validated as any config is (rlvr_eval.planning.config).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

from rlvr_eval.data.benchmarks import BENCHMARKS
from rlvr_eval.planning.config import ConfigError, validate_config

DEFAULT_TEMPLATE = "qwen-boxed"  # the paper's SimpleRL-Zoo prompt, used by most of its pairs
KEPT_SECTIONS = ("benchmark_source", "sampling", "verification", "resources")


def model_name(model: str) -> str:
    """A model's name in the config: the last part of its hub id or path, e.g. Qwen/Qwen2.5-7B -> qwen2.5-7b."""
    name = re.sub(r"[^a-z0-9._-]+", "-", Path(model.rstrip("/")).name.lower()).strip("-._")
    return name or "model"


def model_entry(model: str, role: str, template: str, backend: str | None) -> dict:
    """A local directory (`path`, absolute) if `model` names one, else a hub id (`hf_id`; its revision is resolved
    and recorded when it is staged)."""
    where = Path(model).expanduser()
    entry = {"path": str(where.resolve())} if where.is_dir() else {"hf_id": model, "revision": None}
    entry.update(role=role, prompt_template=template)
    if backend is not None:
        entry["backend"] = backend
    return entry


def run_config(default: dict, model: str, benchmarks: list[str], n: int, pair_with: str | None = None,
               template: str = DEFAULT_TEMPLATE, backend: str | None = None, limit: int | None = None,
               max_new_tokens: int | None = None) -> tuple[dict, dict]:
    """(the config to write, the same validated): `model` on `benchmarks` with n samples per problem, beside
    `pair_with` (its base model) when given. `default`: the default config as read (config.yaml)."""
    config = {k: copy.deepcopy(default[k]) for k in KEPT_SECTIONS if k in default}
    config["benchmarks"] = {}
    for b in benchmarks:
        if b not in default.get("benchmarks", {}) and b not in BENCHMARKS:
            raise ConfigError(f"--benchmarks: unknown benchmark {b!r} (known: {', '.join(sorted(BENCHMARKS))})")
        spec = {**copy.deepcopy(default.get("benchmarks", {}).get(b, {})), "n": n}
        if limit is not None:
            spec.pop("problem_ids", None)
            spec["limit"] = limit
        config["benchmarks"][b] = spec
    source = config.get("benchmark_source", {})
    for key in ("hub_benchmarks", "unpinned_hub"):  # lists of the default's benchmarks: only those chosen stay
        if key in source:
            source[key] = [b for b in source[key] if b in benchmarks]
    if "hub_revisions" in source:
        source["hub_revisions"] = {b: r for b, r in source["hub_revisions"].items() if b in benchmarks}
    for section in config.get("resources", {}).values():  # per-model settings name the default's models
        if isinstance(section, dict):
            section.pop("models", None)
    if backend is not None:
        config.setdefault("sampling", {})["backend"] = backend
    if max_new_tokens is not None:
        config.setdefault("sampling", {})["max_new_tokens"] = max_new_tokens
    name = model_name(model)
    config["models"], config["pairs"] = {}, []
    if pair_with is not None:
        base = model_name(pair_with)
        if base == name:
            base = f"{base}-base"
        config["models"][base] = model_entry(pair_with, "base", template, backend)
        config["pairs"] = [{"name": f"{base}-vs-{name}", "base": base, "rl": name}]
    config["models"][name] = model_entry(model, "rl" if pair_with else "base", template, backend)
    return config, validate_config(config)
