"""Models a run leaves out on purpose (`enabled: false` on a model), and what needs them: pairs, variants,
checkpoints and analysis lists. The grid is built without them, and every global output names them: a table or
figure over all models is never silently partial.

A benchmark marked `if_missing: leave_out` whose mirror file is absent (Omni-MATH-Rule, which the shared mirror
may not hold yet: `make data` fetches it) is left out the same way, with the file named: the models' benchmark
lists lose it, a model left with no benchmark is left out, and every global output says so."""

from __future__ import annotations

import copy
from pathlib import Path

# (keys to a model entry's reference to another model): an entry that needs a left-out model is left out too
_NEEDS = (("variant_of",), ("tiny", "init_from"), ("rlvr", "init_from"), ("checkpoint", "of"))


def _needed(entry: dict) -> list[str]:
    out = []
    for path in _NEEDS:
        value = entry
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str):
            out.append(value)
    return out


# per-benchmark keys of a model entry ({benchmark: value}) that a left-out benchmark leaves
_BY_BENCHMARK = ("n", "shard_size", "sampling_by_benchmark", "prompt_template_by_benchmark")


def missing_benchmarks(config: dict) -> dict[str, str]:
    """{benchmark: why} for the benchmarks marked `if_missing: leave_out` whose mirror file is absent (or which are
    to be read from the hub, where they have no copy)."""
    from rlvr_eval.data.benchmarks import BENCHMARKS, mirror_path

    source = config.get("benchmark_source", {})
    mirror = source.get("mirror_dir")
    out = {}
    for name, spec in config["benchmarks"].items():
        if spec.get("if_missing") != "leave_out" or "synthetic" in spec:
            continue
        if mirror is None or name in source.get("hub_benchmarks", []):
            if name in BENCHMARKS and not BENCHMARKS[name].hub_path:
                out[name] = ("no copy on the Hugging Face hub: read it from benchmark_source.mirror_dir, where `make "
                             "data` fetches it")
            continue
        path = mirror_path(name, mirror)
        if not Path(path).is_file():
            out[name] = f"{path} is missing: `make data MIRROR_DIR={mirror}` fetches it"
    return out


def _without_benchmarks(config: dict, gone: dict[str, str]) -> tuple[dict, dict[str, str]]:
    """(a copy of config without the benchmarks `gone`, {model: why} for the models left with no benchmark)."""
    config = copy.deepcopy(config)
    config["benchmarks"] = {b: s for b, s in config["benchmarks"].items() if b not in gone}
    emptied = {}
    for name, m in config["models"].items():
        if isinstance(m.get("benchmarks"), list):
            kept = [b for b in m["benchmarks"] if b not in gone]
            if not kept and m["benchmarks"]:
                emptied[name] = f"its benchmarks {', '.join(m['benchmarks'])} are left out"
            m["benchmarks"] = kept
        for key in _BY_BENCHMARK:
            if isinstance(m.get(key), dict):
                m[key] = {b: v for b, v in m[key].items() if b not in gone}
    guessable = config.get("analysis", {}).get("guessable_filter")
    if guessable and guessable.get("benchmarks"):
        guessable["benchmarks"] = [b for b in guessable["benchmarks"] if b not in gone]
    return config, emptied


def leave_out(config: dict) -> tuple[dict, dict]:
    """(the validated config without its disabled models, the benchmarks it leaves out and what needs them,
    {"models": {name: why}, "pairs": {name: why}, "benchmarks": {name: why}}). The input is not modified."""
    benchmarks = missing_benchmarks(config)
    emptied = {}
    if benchmarks:
        config, emptied = _without_benchmarks(config, benchmarks)
    models = config["models"]
    why = {name: "enabled: false" for name, m in models.items() if m.get("enabled") is False}
    why.update({name: reason for name, reason in emptied.items() if name not in why})
    grew = bool(why)
    while grew:
        grew = False
        for name, m in models.items():
            gone = next((d for d in _needed(m) if d in why), None)
            if name not in why and gone is not None:
                why[name] = f"needs {gone}, which is left out"
                grew = True
    if not why:
        return config, {"models": {}, "pairs": {}, "benchmarks": benchmarks}
    config = copy.deepcopy(config)
    config["models"] = {name: m for name, m in models.items() if name not in why}
    pairs = {}
    for p in config["pairs"]:
        role = next((r for r in ("base", "rl") if p[r] in why), None)
        if role is not None:
            pairs[p["name"]] = f"its {role} model {p[role]} is left out"
    config["pairs"] = [p for p in config["pairs"] if p["name"] not in pairs]
    analysis = config.get("analysis", {})
    for section, key in (("perplexity", "response_models"), ("perplexity", "scored_by"), ("review", "models")):
        names = analysis.get(section, {}).get(key)
        if names:
            kept = [m for m in names if m not in why]
            if not kept and section == "review":  # no list means every model there: review none instead
                analysis[section]["enabled"] = False
            analysis[section][key] = kept
    entropy = analysis.get("entropy")
    if entropy:
        entropy["pairs"] = [p for p in entropy.get("pairs", []) if p not in pairs]
        entropy["models"] = [m for m in entropy.get("models", []) if m not in why]
    guessable = analysis.get("guessable_filter")
    if guessable:
        guessable["pairs"] = [p for p in guessable["pairs"] if p not in pairs]
        if guessable["direct_model"] in why or not guessable["pairs"]:
            analysis["guessable_filter"] = None
    return config, {"models": why, "pairs": pairs, "benchmarks": benchmarks}


def note(left: dict) -> str:
    """One line that a global output carries: what the run left out and why ("" when nothing)."""
    by_why: dict[str, list[str]] = {}  # benchmarks left out for one reason (one file) are named together
    for name, why in left.get("benchmarks", {}).items():
        by_why.setdefault(why, []).append(name)
    parts = [f"benchmark{'s' if len(names) > 1 else ''} {', '.join(names)} ({why})" for why, names in by_why.items()]
    parts += [f"{name} ({why})" for name, why in left["models"].items()]
    parts += [f"pair {name} ({why})" for name, why in left["pairs"].items()]
    return f"Left out of this run: {'; '.join(parts)}." if parts else ""
