"""Imported models (`responses:`) need only their file(s): benchmarks and n are read from the rows.

`infer_imported` fills in `benchmarks` and `n` of every model entry with `responses:` before the config is
checked: a mapping `{benchmark: file}` names the benchmarks, a single file names them in its rows (`benchmark`, as
`rlvr-eval export` writes); n is the number of responses per problem. A value the entry gives still wins when the
file agrees, and is a `ConfigError` naming the key and the file when it does not. Only the key columns are read
(rlvr_eval.sampling.importing.response_counts), once per file and modification time.

`import_entry` / `append_model` are `rlvr-eval import`: the minimal entry of a responses file, added to a config.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from rlvr_eval.data.benchmarks import BENCHMARKS
from rlvr_eval.sampling.importing import ResponseImportError, response_counts


class ImportedConfigError(ValueError):
    """An imported model whose file(s) cannot be read or contradict its entry (planning.config makes it a
    ConfigError)."""


def _counts(where: str, path: str) -> dict[str | None, int]:
    try:
        return response_counts(path)
    except FileNotFoundError:
        raise ImportedConfigError(f"{where}: no file {path} (relative to the working directory {Path.cwd()})") from None
    except (ResponseImportError, ValueError, OSError) as e:
        raise ImportedConfigError(f"{where}: {e}") from None


def file_benchmarks(where: str, path: str) -> dict[str, int]:
    """{benchmark: n} of a file whose rows name their benchmark."""
    counts = _counts(where, path)
    if None in counts:
        raise ImportedConfigError(f"{where}: {path} has rows without a `benchmark` field: map the file to its "
                                  f"benchmark instead (`responses: {{<benchmark>: {path}}}`)")
    return counts


def _files(name: str, spec: dict, benchmarks: dict) -> dict[str, tuple[str, int]]:
    """benchmark -> (file, n), in the order the entry (mapping) or the file (single file) names them."""
    responses = spec["responses"]
    if isinstance(responses, str):
        return {b: (responses, n) for b, n in file_benchmarks(f"models.{name}.responses", responses).items()}
    out = {}
    for b, path in responses.items():
        where = f"models.{name}.responses.{b}"
        if b not in benchmarks:
            raise ImportedConfigError(f"{where}: {b!r} is not in benchmarks")
        counts = _counts(where, path)
        if None in counts:  # rows that name no benchmark: the mapping says which
            out[b] = (path, counts[None])
        elif b in counts:
            out[b] = (path, counts[b])
        else:
            raise ImportedConfigError(f"{where}: {path} holds no responses on {b!r} (its rows name "
                                      f"{', '.join(map(repr, counts))})")
    return out


def infer_imported(config: dict) -> None:
    """Fill in `benchmarks` and `n` of every imported model of `config` (in place) from its file(s); a model left
    out (`enabled: false`) is not read."""
    for name, spec in config["models"].items():
        if "responses" not in spec:
            continue
        if spec.get("enabled") is False:  # left out (planning.left_out): its file may not be there yet
            if isinstance(spec["responses"], dict):
                spec.setdefault("benchmarks", list(spec["responses"]))
            continue
        files = _files(name, spec, config["benchmarks"])
        if isinstance(spec["responses"], str):
            unknown = [b for b in files if b not in config["benchmarks"]]
            if unknown:
                raise ImportedConfigError(f"models.{name}.responses: {spec['responses']} holds responses on "
                                          f"{', '.join(map(repr, unknown))}, not in benchmarks (add it there)")
        if "benchmarks" in spec:
            missing = [b for b in spec["benchmarks"] if b not in files]
            if missing:
                paths = sorted({path for path, _ in files.values()})
                raise ImportedConfigError(f"models.{name}.benchmarks: {missing} but {', '.join(paths)} hold(s) "
                                          f"responses on {list(files)} only")
        else:
            spec["benchmarks"] = list(files)
        n = spec.setdefault("n", {})
        for b in spec["benchmarks"]:
            path, counted = files[b]
            if n.setdefault(b, counted) != counted:
                raise ImportedConfigError(f"models.{name}.n.{b}: {n[b]}, but {path} has {counted} responses per "
                                          f"problem on {b}")


# --- rlvr-eval import -------------------------------------------------------------------------------------------
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def model_name_of(path: str | Path) -> str:
    """A model name from a file name: `o1-math500.jsonl` -> `o1-math500`."""
    stem = Path(path).name.split(".")[0]
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-._")
    return name or "imported"


def import_entry(path: str, benchmark: str | None = None, known: list[str] | None = None,
                 known_from: str = "rlvr_eval") -> tuple[dict, dict[str, int]]:
    """(the minimal model entry of a responses file, {benchmark: n}). `benchmark` names the benchmark of a file
    whose rows name none; `known`: the benchmarks a file may hold (default: every benchmark of the package), those
    of `known_from` (named in the error)."""
    known = list(BENCHMARKS) if known is None else known
    counts = _counts(path, path)
    if None in counts:
        if benchmark is None:
            raise ImportedConfigError(f"{path}: its rows name no benchmark (no `benchmark` field): give --benchmark")
        entry, found = {"responses": {benchmark: path}}, {benchmark: counts[None]}
    else:
        if benchmark is not None and benchmark not in counts:
            raise ImportedConfigError(f"{path}: no responses on {benchmark!r} (its rows name {', '.join(counts)})")
        found = {benchmark: counts[benchmark]} if benchmark else counts
        entry = {"responses": {benchmark: path}} if benchmark and len(counts) > 1 else {"responses": path}
    unknown = [b for b in found if b not in known]
    if unknown:
        raise ImportedConfigError(f"{path}: responses on {', '.join(map(repr, unknown))}, not a benchmark of "
                                  f"{known_from} (known: {', '.join(known)})")
    return entry, found


def entry_yaml(name: str, entry: dict) -> str:
    """The entry as it goes under `models:` (indented by two spaces)."""
    text = yaml.safe_dump({name: entry}, sort_keys=False, default_flow_style=False)
    return "".join(f"  {line}\n" for line in text.splitlines())


def append_model(config_path: str | Path, name: str, entry: dict) -> None:
    """Add `name: entry` at the top of the config's `models:` mapping, keeping the rest of the file (comments
    too) as it is. Refuses a name the config already has."""
    config_path = Path(config_path)
    text = config_path.read_text()
    config = yaml.safe_load(text) or {}
    if not _NAME.match(name):
        raise ImportedConfigError(f"--name {name!r}: a model name is letters, digits, '.', '_' and '-'")
    if name in (config.get("models") or {}):
        raise ImportedConfigError(f"{config_path}: models.{name} exists already: choose another --name")
    match = re.search(r"^models:[ \t]*(#.*)?\n", text, flags=re.M)
    if match is None:
        raise ImportedConfigError(f"{config_path}: no `models:` block to add the model to")
    config_path.write_text(text[:match.end()] + entry_yaml(name, entry) + text[match.end():])
