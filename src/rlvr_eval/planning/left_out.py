"""Models a run leaves out on purpose (`enabled: false` on a model), and what needs them: pairs, variants,
checkpoints and analysis lists. The grid is built without them, and every global output names them: a table or
figure over all models is never silently partial."""

from __future__ import annotations

import copy

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


def leave_out(config: dict) -> tuple[dict, dict]:
    """(the validated config without its disabled models and what needs them, {"models": {name: why},
    "pairs": {name: why}}). The input is not modified."""
    models = config["models"]
    why = {name: "enabled: false" for name, m in models.items() if m.get("enabled") is False}
    grew = bool(why)
    while grew:
        grew = False
        for name, m in models.items():
            gone = next((d for d in _needed(m) if d in why), None)
            if name not in why and gone is not None:
                why[name] = f"needs {gone}, which is left out"
                grew = True
    if not why:
        return config, {"models": {}, "pairs": {}}
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
    return config, {"models": why, "pairs": pairs}


def note(left: dict) -> str:
    """One line that a global output carries: what the run left out and why ("" when nothing)."""
    parts = [f"{name} ({why})" for name, why in left["models"].items()]
    parts += [f"pair {name} ({why})" for name, why in left["pairs"].items()]
    return f"Left out of this run: {'; '.join(parts)}." if parts else ""
