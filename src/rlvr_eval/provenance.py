"""Provenance: what each artifact was made from, and the code stamps that decide what Snakemake reruns.

Records
-------
Every job that runs its script under ``with logged(snakemake):`` (``rlvr_eval.scriptlog``) writes, after
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

A record points to its inputs' records, so ``rlvr-eval audit`` (``rlvr_eval.audit``) can walk from a figure
back to model revisions and dataset hashes and recompute every hash on the way.

Logic stamps
------------
``logic_version(stage)`` is a short string that the rules pass as the param ``logic``; Snakemake's params
trigger reruns a job when it changes. Two kinds:

* ``manual`` for the expensive stages (``MANUAL_STAGES``: model staging, sampling, perplexity): a version
  declared in ``manual_stamps.yaml`` together with the source digests it accepts. Editing the sampling code
  never resamples by itself, but the Snakefile refuses to run until the edit is declared output-neutral
  (``rlvr-eval logic --accept sampling``) or the version bumped (``rlvr-eval logic --bump sampling``). The
  records carry the digest of the stage's sources, and ``rlvr-eval audit`` flags an artifact whose digest its
  version does not accept.
* ``auto`` for the cheap stages (data preparation, tiny models, RL training of tiny models) and everything
  computed from samples: a digest of the stage's script and every ``rlvr_eval`` module it imports
  (transitively, including imports inside functions), taken over the set of their top-level statements, each
  parsed and unparsed without docstrings and with imports of ``rlvr_eval`` reduced to the names they bind
  (``statement_digests``). Comments, docstrings, formatting and where code lives do not count: moving a
  function or a module inside the package reruns nothing. For verification it also covers the
  grader's own module (loaded by name from ``verify.graders.GRADERS``), its manual ``GRADER_VERSIONS`` entry
  and the versions of the third-party libraries the grader module imports (math-verify, sympy, ...): a
  changed grader re-verifies (and everything downstream) without resampling, and only for that grader.

Modules that only record or report (``NEUTRAL_MODULES``) are not followed, so editing this file reruns nothing.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from .io import read_json, read_parquet_metadata, sha256_file, write_json, write_text

SCHEMA_VERSION = 1
SIDECAR_SUFFIX = ".prov.json"

# Stages whose work is expensive (downloads, GPU days) carry a version declared by hand in manual_stamps.yaml,
# {stage: {version, accepts: [sources digests]}}: editing their code never recomputes by itself. The Snakefile
# refuses to run when a manual stage's code matches none of the digests its version accepts, so nobody can
# produce samples with new code under an old stamp: `rlvr-eval logic --accept STAGE` declares the edit
# output-neutral, `rlvr-eval logic --bump STAGE` starts a new version (Snakemake then recomputes the stage).
MANUAL_STAGES = ("staging", "sampling", "perplexity")


def manual_stamps_path() -> Path:
    return PACKAGE_ROOT / "manual_stamps.yaml"


def manual_stamps() -> dict[str, dict]:
    import yaml

    stamps = yaml.safe_load(manual_stamps_path().read_text()) or {}
    missing = [s for s in MANUAL_STAGES if s not in stamps]
    if missing:
        raise ValueError(f"{manual_stamps_path()}: no entry for stage(s) {missing}")
    return {s: {"version": str(stamps[s]["version"]), "accepts": list(stamps[s].get("accepts") or [])}
            for s in MANUAL_STAGES}


def write_manual_stamps(stamps: dict[str, dict]) -> None:
    import yaml

    header = ("# Declared versions of the expensive stages (rlvr_eval.provenance.MANUAL_STAGES) and the source digests\n"
              "# each version accepts. Edit with `rlvr-eval logic --accept STAGE` or `rlvr-eval logic --bump STAGE`.\n")
    write_text(manual_stamps_path(), header + yaml.safe_dump(stamps, sort_keys=True))
    logic_version.cache_clear()


# stage -> the rule script whose imports define the stage's code (paths relative to workflow/scripts).
STAGE_SCRIPTS: dict[str, tuple[str, ...]] = {
    "data": ("prepare_benchmark.py",),
    "tiny_models": ("build_tiny_model.py",),
    "staging": ("stage_model.py",),
    "variants": ("variant_model.py",),
    "rlvr": ("train_rlvr.py", "register_checkpoint.py"),
    "checkpoint_series": ("checkpoint_series.py",),
    "sampling": ("sample.py",),
    "import": ("import_samples.py",),
    "verify": ("verify_samples.py",),
    "code_expected": ("code_expected_outputs.py",),
    "verify_code": ("verify_code_samples.py",),
    "agreement": ("grader_agreement.py",),
    "metrics": ("passk_metrics.py",),
    "tables": ("passk_table.py",),
    "figures": ("passk_figure.py",),
    "coverage": ("coverage.py",),
    "bootstrap": ("bootstrap_passk.py",),
    "perplexity": ("perplexity.py",),
    "accuracy_hist": ("accuracy_hist.py",),
    "analysis_figures": ("analysis_figures.py",),
    "delta_se": ("delta_se.py",),
    "token_nll": ("token_nll.py",),
    "review": ("review_sheet.py",),
}

# Modules that record or report but never compute a result: their edits must not rerun anything.
NEUTRAL_MODULES = frozenset({"rlvr_eval.scriptlog", "rlvr_eval.provenance", "rlvr_eval.audit", "rlvr_eval.cli"})


def is_neutral(module: str) -> bool:
    """A neutral module, or a module inside a neutral package."""
    return any(module == m or module.startswith(m + ".") for m in NEUTRAL_MODULES)

PACKAGES = ("rlvr-eval", "torch", "transformers", "vllm", "math-verify", "snakemake", "numpy", "pandas", "pyarrow",
            "sympy", "matplotlib", "tokenizers", "accelerate")

PACKAGE_ROOT = Path(__file__).resolve().parent  # src/rlvr_eval
_STAMP_RE = re.compile(r"^(?P<stage>[\w-]+)(?:\[(?P<args>[^\]]*)\])?:(?P<kind>manual|auto)-(?P<digest>\S+)$")
_scripts_dir: Path | None = None


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


# --- logic stamps ---------------------------------------------------------------------------------
def set_workflow_dir(path: str | os.PathLike) -> None:
    """Where the workflow lives (the Snakefile's directory): its rule scripts are in workflow/scripts."""
    set_scripts_dir(Path(path) / "workflow" / "scripts")


def set_scripts_dir(path: str | os.PathLike) -> None:
    global _scripts_dir
    if _scripts_dir != Path(path):
        _scripts_dir = Path(path)
    logic_version.cache_clear()
    logic_details.cache_clear()


def scripts_dir() -> Path:
    if _scripts_dir is not None:
        return _scripts_dir
    if os.environ.get("RLVR_EVAL_SCRIPTS_DIR"):
        return Path(os.environ["RLVR_EVAL_SCRIPTS_DIR"])
    return Path.cwd() / "workflow" / "scripts"


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return tree


@functools.lru_cache(maxsize=None)  # the stages share most modules: each text is parsed once per process
def normalised_source_digest(source: str) -> str:
    """sha256 of the source's AST without docstrings: comments, docstrings and layout do not count."""
    tree = _strip_docstrings(ast.parse(source))
    # ast.unparse, not ast.dump: the dump lists every node field, and fields are added across Python versions
    # (3.12: type_params), which would change every stamp (and rerun everything) on a Python upgrade.
    return hashlib.sha256(ast.unparse(tree).encode()).hexdigest()


def _is_internal(name: str) -> bool:
    return name == "rlvr_eval" or name.startswith("rlvr_eval.")


def _resolve_from(node: ast.ImportFrom, me: str | None, is_pkg: bool) -> str | None:
    """The absolute module a `from ... import` names (None for a relative import outside the package)."""
    if not node.level:
        return node.module or ""
    if me is None:
        return None
    package = me.split(".") if is_pkg else me.split(".")[:-1]
    package = package[: len(package) - (node.level - 1)]
    return ".".join(package + ([node.module] if node.module else []))


class _WithoutInternalPaths(ast.NodeTransformer):
    """Imports of rlvr_eval keep the names they bind but not the module they come from, so moving code inside
    the package leaves its statements as they were (the closure still reaches the moved code)."""

    def __init__(self, me: str | None, is_pkg: bool):
        self.me, self.is_pkg = me, is_pkg

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST:
        base = _resolve_from(node, self.me, self.is_pkg)
        if base is not None and _is_internal(base):
            return ast.ImportFrom(module="rlvr_eval", names=node.names, level=0)
        return node

    def visit_Import(self, node: ast.Import) -> ast.AST:
        node.names = [ast.alias(name="rlvr_eval", asname=a.asname) if _is_internal(a.name) else a
                      for a in node.names]
        return node


@functools.lru_cache(maxsize=None)
def statement_digests(source: str, me: str | None = None, is_pkg: bool = False) -> frozenset[str]:
    """sha256 of each top-level statement of a module `me`, without docstrings; top-level imports of rlvr_eval are
    left out and those inside functions reduced to the names they bind (_WithoutInternalPaths).

    A stage's stamp digests the set of these over its closure: moving a function or a constant to another module
    of the closure, or a module to another package, changes no stamp; changing a statement does. What the set
    cannot see: the order of top-level statements (a name bound twice at module level, in swapped order), and
    which module of the closure a top-level import takes a name from when two of them define it."""
    tree = _WithoutInternalPaths(me, is_pkg).visit(_strip_docstrings(ast.parse(source)))
    return frozenset(hashlib.sha256(ast.unparse(stmt).encode()).hexdigest() for stmt in tree.body
                     if not _imports_only_package(stmt) and not isinstance(stmt, ast.Pass))  # Pass: a docstring's


def _imports_only_package(stmt: ast.stmt) -> bool:
    """An import that binds only rlvr_eval code (after _WithoutInternalPaths): the closure holds what it binds."""
    if isinstance(stmt, ast.ImportFrom):
        return stmt.module == "rlvr_eval" and not stmt.level
    return isinstance(stmt, ast.Import) and all(a.name == "rlvr_eval" for a in stmt.names)


def module_file(module: str) -> Path | None:
    """The source file of an rlvr_eval module (None if there is none)."""
    parts = module.split(".")
    if parts[0] != "rlvr_eval":
        return None
    base = PACKAGE_ROOT.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _module_name(path: Path) -> str | None:
    try:
        rel = path.resolve().relative_to(PACKAGE_ROOT)
    except ValueError:
        return None
    parts = list(rel.with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(["rlvr_eval", *parts])


def _imports(path: Path) -> tuple[frozenset[str], frozenset[str]]:
    """(rlvr_eval modules, third-party top-level names) imported anywhere in `path`."""
    return _imports_of(path, path.read_text())


@functools.lru_cache(maxsize=None)  # keyed by the text too: an edited file is parsed again
def _imports_of(path: Path, source: str) -> tuple[frozenset[str], frozenset[str]]:
    tree = ast.parse(source)
    me = _module_name(path)
    is_pkg = path.name == "__init__.py"
    internal, external = set(), set()

    def add(name: str) -> None:
        if _is_internal(name):
            internal.add(name)
        else:
            top = name.split(".")[0]
            if top and top not in sys.stdlib_module_names and top != "__future__":
                external.add(top)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve_from(node, me, is_pkg)
            if base is None:
                continue
            add(base)
            for alias in node.names:  # `from rlvr_eval import provenance`: a submodule, not a name
                if base.startswith("rlvr_eval") and module_file(f"{base}.{alias.name}") is not None:
                    internal.add(f"{base}.{alias.name}")
    return frozenset(internal), frozenset(external)


def source_closure(roots: Iterable[str | Path]) -> tuple[dict[str, str], set[str], frozenset[str]]:
    """Follow rlvr_eval imports from `roots` (script paths or module names).

    Returns ({name: normalised digest} for every file reached (missing scripts: "missing"), third-party names,
    the statement digests of every file reached (statement_digests)). Parent packages (`__init__.py`) count:
    importing a module runs them. NEUTRAL_MODULES are not followed.
    """
    digests: dict[str, str] = {}
    statements: set[str] = set()
    external: set[str] = set()
    todo: list[tuple[str, Path | None]] = []
    for r in roots:
        if isinstance(r, Path) or str(r).endswith(".py"):
            todo.append((f"script:{Path(r).name}", Path(r)))
        else:
            todo.append((str(r), module_file(str(r))))
    while todo:
        name, path = todo.pop()
        if name in digests or is_neutral(name):
            continue
        if path is None or not path.is_file():
            digests[name] = "missing"
            statements.add(f"missing:{name}")
            continue
        source = path.read_text()
        digests[name] = normalised_source_digest(source)
        module = None if name.startswith("script:") else name
        statements |= statement_digests(source, module, path.name == "__init__.py")
        internal, ext = _imports(path)
        external |= ext
        for mod in internal:
            parts = mod.split(".")
            for i in range(1, len(parts) + 1):  # the module and its parent packages
                parent = ".".join(parts[:i])
                if parent not in digests and module_file(parent) is not None:
                    todo.append((parent, module_file(parent)))
    return dict(sorted(digests.items())), external, frozenset(statements)


@functools.lru_cache(maxsize=1)  # scans every installed distribution: once per process
def _packages_distributions() -> dict:
    from importlib import metadata

    return metadata.packages_distributions()


def _distribution_versions(top_level_names: Iterable[str]) -> dict[str, str | None]:
    from importlib import metadata

    mapping = _packages_distributions()
    out = {}
    for name in sorted(set(top_level_names)):
        for dist in mapping.get(name, [name]):
            try:
                out[dist] = metadata.version(dist)
            except metadata.PackageNotFoundError:
                out[dist] = None
    return out


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:12]


@functools.lru_cache(maxsize=None)
def logic_details(stage: str, script: str | None = None, grader: str | None = None) -> dict:
    """What the stamp of `stage` covers: sources (and library versions for a grader), their digest."""
    base = scripts_dir()
    scripts = (script,) if script else STAGE_SCRIPTS.get(stage, ())
    if not scripts:
        raise ValueError(f"unknown stage {stage!r} (known: {', '.join(sorted(STAGE_SCRIPTS))}); pass script=")
    roots: list[str | Path] = [base / s for s in scripts]
    sources, _, statements = source_closure(roots)
    details: dict[str, Any] = {"stage": stage, "scripts": list(scripts), "sources": sources}
    covered: dict[str, Any] = {"stage": stage, "statements": sorted(statements)}
    if grader is not None:
        from .verify.graders import GRADER_VERSIONS, GRADERS

        if grader not in GRADERS:
            raise ValueError(f"unknown grader {grader!r}; known: {', '.join(sorted(GRADERS))}")
        module = GRADERS[grader].split(":")[0]
        grader_sources, _, grader_statements = source_closure([module])
        path = module_file(module)
        external = _imports(path)[1] if path is not None else set()  # the grader's own libraries, not pandas & co
        details["grader"] = {"name": grader, "manual_version": GRADER_VERSIONS.get(grader),
                             "sources": grader_sources, "libraries": _distribution_versions(external)}
        covered["grader"] = {**details["grader"], "sources": sorted(grader_statements)}
    # Names of files are left out: where code lives is not what it computes (statement_digests).
    details["digest"] = _digest(covered)
    return details


@functools.lru_cache(maxsize=None)
def logic_version(stage: str, script: str | None = None, grader: str | None = None) -> str:
    """The stamp a rule passes as its `logic` param, e.g. "sampling:manual-1", "figures:auto-3f2a9c1b7d0e",
    "verify[grader=math_verify]:auto-...", "figures[script=accuracy_hist.py]:auto-...".

    `script` (under workflow/scripts) overrides the stage's default script: one stamp per rule script.
    """
    args = ",".join(f"{k}={v}" for k, v in (("script", script), ("grader", grader)) if v)
    head = f"{stage}[{args}]" if args else stage
    if stage in MANUAL_STAGES:
        return f"{head}:manual-{manual_stamps()[stage]['version']}"
    digest = logic_details(stage, script, grader)["digest"]
    return f"{head}:auto-{legacy_stamps().get(head, {}).get(digest, digest)}"


def legacy_stamps_path() -> Path:
    return PACKAGE_ROOT / "legacy_stamps.yaml"


@functools.lru_cache(maxsize=1)
def legacy_stamps() -> dict[str, dict[str, str]]:
    """{stamp head: {digest: the digest that code had before stamps ignored where code lives}}.

    Written once, when the digests changed scheme (statement_digests), from one tree under both schemes: code that
    is still exactly that code keeps its old stamp, so results made before the change are not recomputed. An
    edit of a stage gives it a digest this table does not hold, so it can only ever spare reruns of the same code.
    """
    import yaml

    path = legacy_stamps_path()
    return (yaml.safe_load(path.read_text()) or {}) if path.is_file() else {}


def undeclared_manual_code() -> list[str]:
    """One message per manual stage whose current code digest its declared version does not accept."""
    problems = []
    for stage, entry in manual_stamps().items():
        details = logic_details(stage)
        if details["digest"] not in entry["accepts"]:
            files = ", ".join(details["sources"])
            problems.append(
                f"the {stage} code differs from every version of it that {stage}:manual-{entry['version']} accepts "
                f"(sources digest {details['digest']}; code: {files}). Its outputs would carry a stamp that "
                f"describes other code. Run `rlvr-eval logic --accept {stage}` if the edit cannot change any "
                f"{stage} output, or `rlvr-eval logic --bump {stage}` to recompute the stage (and all downstream).")
    return problems


def accept_manual_code(stage: str) -> str:
    """Declare the current code of `stage` equivalent to its current version; returns the accepted digest."""
    stamps = manual_stamps()
    digest = logic_details(stage)["digest"]
    if digest not in stamps[stage]["accepts"]:
        stamps[stage]["accepts"].append(digest)
    write_manual_stamps(stamps)
    return digest


def bump_manual_version(stage: str) -> str:
    """A new version for `stage` that accepts only its current code; returns the new version."""
    stamps = manual_stamps()
    old = stamps[stage]["version"]
    new = str(int(old) + 1) if old.isdigit() else f"{old}.1"
    stamps[stage] = {"version": new, "accepts": [logic_details(stage)["digest"]]}
    write_manual_stamps(stamps)
    return new


def parse_stamp(stamp: str) -> dict | None:
    """{stage, kind, digest, script, grader} of a stamp (None if it is not one)."""
    m = _STAMP_RE.match(str(stamp))
    if not m:
        return None
    out = {"stage": m["stage"], "kind": m["kind"], "digest": m["digest"], "script": None, "grader": None}
    for part in filter(None, (m["args"] or "").split(",")):
        key, _, value = part.partition("=")
        out[key] = value
    return out


# --- environment ----------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def package_versions() -> dict[str, str | None]:
    from importlib import metadata

    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _git(args: list[str], cwd: Path) -> str | None:
    if shutil.which("git") is None:
        return None
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


@functools.lru_cache(maxsize=None)
def package_digest() -> str:
    """sha256 over the package's Python sources (identifies the code where git cannot)."""
    h = hashlib.sha256()
    for f in sorted(PACKAGE_ROOT.rglob("*.py")):
        if "__pycache__" not in f.parts:
            h.update(f"{f.relative_to(PACKAGE_ROOT).as_posix()}\0{sha256_file(f)}\n".encode())
    return h.hexdigest()


@functools.lru_cache(maxsize=None)
def code_version(where: str | None = None) -> dict:
    """Git commit and dirty flag (tracked files only) of the checkout holding the workflow scripts `where`,
    else of the one holding the package; the package's version and source digest in any case."""
    from . import __version__

    out = {"package_version": __version__, "package_sha256": package_digest(),
           "git_root": None, "git_commit": None, "git_dirty": None}
    for cwd in filter(None, (Path(where) if where else None, PACKAGE_ROOT)):
        commit = _git(["rev-parse", "HEAD"], cwd) if cwd.is_dir() else None
        if commit:
            status = _git(["--no-optional-locks", "status", "--porcelain", "--untracked-files=no"], cwd)
            out.update(git_root=_git(["rev-parse", "--show-toplevel"], cwd), git_commit=commit,
                       git_dirty=None if status is None else bool(status))
            break
    return out


@functools.lru_cache(maxsize=None)
def host_info() -> dict:
    out = {"hostname": socket.gethostname(), "platform": platform.platform(), "cpus": os.cpu_count(),
           "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
           "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"), "gpus": _gpus()}
    return out


def _gpus() -> list[str]:
    torch = sys.modules.get("torch")  # never import torch just for this
    if torch is not None:
        try:
            if torch.cuda.is_available():
                return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        except Exception:  # noqa: BLE001 - a broken CUDA set-up must not fail the job's bookkeeping
            pass
    if shutil.which("nvidia-smi"):
        try:
            proc = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
                                  capture_output=True, text=True, timeout=10)
            if proc.returncode == 0:
                return [line.strip() for line in proc.stdout.splitlines() if line.strip()]
        except (OSError, subprocess.SubprocessError):
            pass
    return []


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
