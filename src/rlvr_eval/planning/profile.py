"""A Snakemake profile's site settings as the SLURM executor will see them: which account, partition, GPU type and
runtime a rule's jobs get (set-resources.<rule> over default-resources), and whether jobs run in conda
environments. Both resource forms are read: a mapping, or Snakemake's "key=value" / "rule:key=value" strings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

DURATION_RE = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*$")


def _pairs(items, where: str) -> dict:
    if items is None:
        return {}
    if isinstance(items, dict):
        return dict(items)
    if isinstance(items, str):
        items = items.split()
    out = {}
    for item in items:
        key, sep, value = str(item).partition("=")
        if not sep:
            raise ValueError(f"{where}: {item!r} is not key=value")
        out[key.strip()] = yaml.safe_load(value)
    return out


@dataclass
class Profile:
    path: Path
    default: dict = field(default_factory=dict)
    rules: dict = field(default_factory=dict)
    uses_conda: bool = False

    def setting(self, rule: str, key: str) -> tuple[object, str | None]:
        """(value, the profile key that sets it) for `rule`'s jobs; (None, None) when the profile leaves it unset."""
        if key in self.rules.get(rule, {}):
            return self.rules[rule][key], f"set-resources.{rule}.{key}"
        if key in self.default:
            return self.default[key], f"default-resources.{key}"
        return None, None


def load_profile(path: str | Path) -> Profile:
    """The profile's config.yaml (a profile directory is read from its config.yaml)."""
    path = Path(path)
    if path.is_dir():
        path = path / "config.yaml"
    data = yaml.safe_load(path.read_text()) or {}
    rules: dict = {}
    given = data.get("set-resources") or {}
    if isinstance(given, dict):
        rules = {rule: _pairs(values, f"set-resources.{rule}") for rule, values in given.items()}
    else:
        for item in given if isinstance(given, list) else str(given).split():
            rule, _, pair = str(item).partition(":")
            rules.setdefault(rule, {}).update(_pairs([pair], "set-resources"))
    method = data.get("software-deployment-method") or data.get("sdm") or []
    conda = data.get("use-conda") is True or "conda" in (method if isinstance(method, list) else [method])
    return Profile(path, _pairs(data.get("default-resources"), "default-resources"), rules, conda)


def minutes(value) -> int | None:
    """A runtime resource in minutes: 90, "90", "2h", "1d12h", "1h30m"; None if it cannot be read."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    match = DURATION_RE.match(str(value))
    if str(value).strip().isdigit():
        return int(str(value).strip())
    if not match or not any(match.groups()):
        return None
    days, hours, mins = (int(g or 0) for g in match.groups())
    return (days * 24 + hours) * 60 + mins
