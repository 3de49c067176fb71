"""Job records: what each artifact was made from, in a sidecar beside it.

Every job that runs its script under ``with logged(snakemake):`` (``rlvr_eval.provenance.scriptlog``) writes, after
its outputs and atomically, one sidecar per output: ``<output>.prov.json`` (for a directory output
``<dir>.prov.json`` beside it). All sidecars of a job hold the same record, schema 1:

| key           | meaning                                                                                  |
|---------------|------------------------------------------------------------------------------------------|
| artifact      | the output this sidecar describes (path relative to the workflow's working directory)     |
| rule, wildcards, params | as Snakemake passed them to the job                                            |
| logic         | the stage's logic stamp (the rule's ``logic`` param) and the source digest of its modules |
| outputs       | path -> {kind: file/dir, sha256, bytes[, files: {relative path: sha256} for directories]}  |
| inputs        | path -> the same, plus ``record``: the input's own sidecar (null for a source file)       |
| roots         | ``models``: name -> resolved revision etc.; ``datasets``: benchmark -> source sha256 etc.; |
|               | merged from the inputs' records, so a figure's record lists every model and dataset       |
| seeds         | every ``seed`` found in the params (plus what the script adds)                            |
| code          | git commit and dirty flag, package version and sha256 of the package's sources            |
| packages      | python, torch, transformers, vllm, math-verify, snakemake, numpy, pandas, ... (null: absent) |
| host          | hostname, platform, CPUs, SLURM job id, GPUs                                              |
| started, finished, seconds | wall-clock times of the job (UTC, ISO 8601)                                  |

A record points to its inputs' records, so ``rlvr-eval audit`` (``rlvr_eval.provenance.audit``) can walk from a figure
back to model revisions and dataset hashes and recompute every hash on the way.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from rlvr_eval.io import read_json, read_parquet_metadata, sha256_file, write_json
from rlvr_eval.provenance.environment import code_version, host_info, package_versions
from rlvr_eval.provenance.stamps import logic_details, parse_stamp, set_scripts_dir

SCHEMA_VERSION = 1
SIDECAR_SUFFIX = ".prov.json"


# --- hashing --------------------------------------------------------------------------------------
def sidecar(path: str | os.PathLike) -> Path:
    """The provenance record of `path` (a file or a directory)."""
    return Path(str(path).rstrip("/") + SIDECAR_SUFFIX)


def is_sidecar(path: str | os.PathLike) -> bool:
    return str(path).endswith(SIDECAR_SUFFIX)


# Files that are not content: Snakemake stamps every directory() output with .snakemake_timestamp after the job.
IGNORED_DIR_FILES = frozenset({".snakemake_timestamp"})


def dir_files(path: str | os.PathLike) -> dict[str, str]:
    """relative path -> sha256 of every file under directory `path` (sorted; symlinks followed)."""
    path = Path(path)
    out = {}
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            if name in IGNORED_DIR_FILES and Path(root) == path:
                continue
            f = Path(root) / name
            out[f.relative_to(path).as_posix()] = sha256_file(f)
    return dict(sorted(out.items()))


def manifest_digest(files: dict[str, str]) -> str:
    """The sha256 of a directory: of its sorted `relative path\\0sha256\\n` lines."""
    h = hashlib.sha256()
    for rel, digest in sorted(files.items()):
        h.update(f"{rel}\0{digest}\n".encode())
    return h.hexdigest()


def describe(path: str | os.PathLike, keep_files: int = 256) -> dict:
    """{kind, sha256, bytes} of a file, or of a directory (manifest hash; `files` if at most keep_files)."""
    p = Path(path)
    if p.is_dir():
        files = dir_files(p)
        entry = {"kind": "dir", "sha256": manifest_digest(files),
                 "bytes": sum((p / f).stat().st_size for f in files), "n_files": len(files)}
        if len(files) <= keep_files:
            entry["files"] = files
        return entry
    return {"kind": "file", "sha256": sha256_file(p), "bytes": p.stat().st_size}


# --- records --------------------------------------------------------------------------------------
def read_record(path: str | os.PathLike) -> dict | None:
    """The record of artifact `path`, or None."""
    f = sidecar(path)
    if not f.is_file():
        return None
    try:
        return read_json(f)
    except (OSError, ValueError):
        return None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _seeds(obj: Any, prefix: str = "") -> dict[str, Any]:
    out = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            key = f"{prefix}{k}"
            if (str(k) == "seed" or str(k).endswith("_seed")) and not isinstance(v, (dict, list)):
                out[key] = v
            else:
                out.update(_seeds(v, key + "."))
    return out


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, sort_keys=True, default=str))


def _roots_without_record(path: str) -> dict:
    """Roots of an input that has no record (made before provenance, or a source file)."""
    roots: dict[str, dict] = {"models": {}, "datasets": {}}
    try:
        if path.endswith(".json") and "models" in Path(path).parts:
            m = read_json(path)
            if isinstance(m, dict) and "revision" in m:
                roots["models"][Path(path).stem] = model_root(m, manifest_path=path)
        elif path.endswith(".parquet") and "data" in Path(path).parts:
            meta = read_parquet_metadata(path)
            if "source" in meta and "benchmark" in meta:
                roots["datasets"][meta["benchmark"]] = dataset_root(meta, table=path)
    except (OSError, ValueError):
        pass
    return roots


def model_root(manifest: dict, manifest_path: str | None = None, weights: dict | None = None) -> dict:
    out = {"revision": manifest.get("revision"), "source": manifest.get("source", "hub" if manifest.get("hf_id") else "path"),
           "hf_id": manifest.get("hf_id"), "requested_revision": manifest.get("requested_revision"),
           "path": manifest.get("path"), "files": manifest.get("files"), "manifest": manifest_path}
    if weights is not None:
        out["weights_sha256"] = weights["sha256"]
    return {k: v for k, v in out.items() if v is not None}


def dataset_root(provenance: dict, table: str | None = None) -> dict:
    src = provenance.get("source", {})
    out = {"sha256": src.get("sha256"), "kind": src.get("kind"), "source": src.get("path"),
           "revision": src.get("revision"), "fingerprint": src.get("fingerprint"), "rows": src.get("rows"),
           "limit": provenance.get("limit"), "problems": provenance.get("problems"), "table": table}
    return {k: v for k, v in out.items() if v is not None}


def _merge_roots(into: dict, roots: dict, where: str) -> None:
    for kind in ("models", "datasets"):
        for name, entry in (roots or {}).get(kind, {}).items():
            into.setdefault(kind, {})
            if name in into[kind] and into[kind][name] != entry:
                into.setdefault("conflicts", []).append({"kind": kind, "name": name, "from": where})
                continue
            into[kind][name] = entry


class JobRecorder:
    """Collects a job's provenance; `finish()` hashes inputs and outputs and writes the sidecars.

    Scripts get one from `with logged(snakemake) as prov:` and may add to it:
    `prov.add_input(path)` (a file read that is not a Snakemake input), `prov.add_model(name, manifest)`,
    `prov.add_dataset(name, provenance)`, `prov.seeds[...] = ...`, `prov.notes[...] = ...`.
    """

    def __init__(self, rule: str, inputs: Iterable[str], outputs: Iterable[str], params: dict | None = None,
                 wildcards: dict | None = None, scriptdir: str | None = None):
        self.rule = rule
        self.inputs = [str(p) for p in inputs]
        self.outputs = [str(p) for p in outputs]
        self.params = dict(params or {})
        self.wildcards = {k: str(v) for k, v in (wildcards or {}).items()}
        self.scriptdir = scriptdir
        self.extra_inputs: list[str] = []
        self.roots: dict[str, dict] = {"models": {}, "datasets": {}}
        self.seeds: dict[str, Any] = _seeds(_jsonable(self.params))
        self.notes: dict[str, Any] = {}
        self.started = _now()
        self._t0 = time.time()

    @classmethod
    def from_snakemake(cls, smk) -> "JobRecorder":
        params = {k: v for k, v in smk.params.items()} if hasattr(smk.params, "items") else {}
        if not params and len(smk.params):
            params = {str(i): v for i, v in enumerate(smk.params)}
        wildcards = {k: v for k, v in smk.wildcards.items()} if hasattr(smk.wildcards, "items") else {}
        return cls(smk.rule, list(smk.input), list(smk.output), params, wildcards, getattr(smk, "scriptdir", None))

    # -- what scripts may add --
    def add_input(self, path: str | os.PathLike) -> None:
        if str(path) not in self.inputs and str(path) not in self.extra_inputs:
            self.extra_inputs.append(str(path))

    def add_model(self, name: str, manifest: dict, manifest_path: str | None = None, weights: str | None = None) -> None:
        self.roots["models"][name] = model_root(manifest, manifest_path, describe(weights) if weights else None)

    def add_dataset(self, name: str, provenance: dict, table: str | None = None) -> None:
        self.roots["datasets"][name] = dataset_root(provenance, table)

    # -- bookkeeping --
    def start(self) -> None:
        """Remove stale sidecars: a failed rerun must not leave an old record beside a new (or no) output."""
        for out in self.outputs:
            f = sidecar(out)
            if f.exists():
                f.unlink()

    def logic(self) -> dict | None:
        stamp = self.params.get("logic")
        if stamp is None:
            return None
        out: dict[str, Any] = {"stamp": str(stamp)}
        parsed = parse_stamp(str(stamp))
        if parsed:
            out["stage"] = parsed["stage"]
            if self.scriptdir:
                set_scripts_dir(self.scriptdir)
            try:
                details = logic_details(parsed["stage"], parsed["script"], parsed["grader"])
                out["sources_digest"] = details["digest"]  # for manual stages: tells whether the code drifted
                out["sources"] = details["sources"]
                if "grader" in details:
                    out["grader"] = details["grader"]
            except (ValueError, OSError, SyntaxError) as e:
                out["error"] = f"{type(e).__name__}: {e}"
        return out

    def build(self) -> dict:
        inputs = {}
        roots: dict[str, dict] = {"models": {}, "datasets": {}}
        for path in self.inputs + self.extra_inputs:
            p = Path(path)
            if not p.exists():
                inputs[path] = {"kind": "missing"}
                continue
            entry = describe(p)
            rec_file = sidecar(path)
            if rec_file.is_file():
                entry["record"] = str(rec_file)
                entry["record_sha256"] = sha256_file(rec_file)
                rec = read_record(path) or {}
                _merge_roots(roots, rec.get("roots", {}), path)
            else:
                entry["record"] = None
                _merge_roots(roots, _roots_without_record(path), path)
            inputs[path] = entry
        _merge_roots(roots, self.roots, "this job")
        outputs = {path: describe(path) for path in self.outputs if Path(path).exists()}
        finished = _now()
        return _jsonable({
            "schema": SCHEMA_VERSION,
            "artifact": None,
            "rule": self.rule,
            "wildcards": self.wildcards,
            "params": self.params,
            "logic": self.logic(),
            "outputs": outputs,
            "inputs": inputs,
            "roots": roots,
            "seeds": self.seeds,
            "notes": self.notes,
            "code": code_version(self.scriptdir),
            "packages": package_versions(),
            "host": host_info(),
            "started": self.started,
            "finished": finished,
            "seconds": round(time.time() - self._t0, 3),
        })

    def finish(self) -> dict:
        record = self.build()
        for path in record["outputs"]:
            write_json(sidecar(path), {**record, "artifact": path})
        return record
