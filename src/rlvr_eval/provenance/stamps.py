"""Logic stamps: the short string each rule passes as its param `logic`, so that Snakemake reruns what a code
change invalidates.

``logic_version(stage)`` is a short string that the rules pass as the param ``logic``; Snakemake's params
trigger reruns a job when it changes. Two kinds:

* ``manual`` for the expensive stages (``MANUAL_STAGES``: model staging, sampling, perplexity, entropy): a version
  declared in ``manual_stamps.yaml`` together with the source digests it accepts. Editing the sampling code
  never resamples by itself, but the Snakefile refuses to run until the edit is declared output-neutral
  (``rlvr-eval logic --accept sampling``) or the version bumped (``rlvr-eval logic --bump sampling``). The
  records carry the digest of the stage's sources, and ``rlvr-eval audit`` flags an artifact whose digest its
  version does not accept.
* ``auto`` for the cheap stages (data preparation, tiny models, RL training of tiny models) and everything
  computed from samples: a digest of the stage's script and every ``rlvr_eval`` module it imports
  (transitively, including imports inside functions), taken over the set of their top-level statements, each
  parsed and unparsed without docstrings and without its imports of ``rlvr_eval`` (``closure.statement_digests``). Comments, docstrings, formatting and where code lives do not count: moving a
  function or a module inside the package reruns nothing. For verification it also covers the
  grader's own module (loaded by name from ``verify.graders.GRADERS``), its manual ``GRADER_VERSIONS`` entry
  and the versions of the third-party libraries the grader module imports (math-verify, sympy, ...): a
  changed grader re-verifies (and everything downstream) without resampling, and only for that grader.

Modules that only record or report (``NEUTRAL_MODULES``: this package and the CLI) are not followed, so editing
them reruns nothing.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Iterable

from rlvr_eval.io import write_text
from rlvr_eval.provenance import closure
from rlvr_eval.provenance.closure import _imports, module_file, source_closure

# Stages whose work is expensive (downloads, GPU days) carry a version declared by hand in manual_stamps.yaml,
# {stage: {version, accepts: [sources digests]}}: editing their code never recomputes by itself. The Snakefile
# refuses to run when a manual stage's code matches none of the digests its version accepts, so nobody can
# produce samples with new code under an old stamp: `rlvr-eval logic --accept STAGE` declares the edit
# output-neutral, `rlvr-eval logic --bump STAGE` starts a new version (Snakemake then recomputes the stage).
MANUAL_STAGES = ("staging", "sampling", "perplexity", "entropy")


def manual_stamps_path() -> Path:
    return closure.PACKAGE_ROOT / "provenance" / "manual_stamps.yaml"


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

    header = ("# Declared versions of the expensive stages (rlvr_eval.provenance.stamps.MANUAL_STAGES) and the source digests\n"
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
    "sampling": ("sample.py", "sample_group.py"),
    "sample_from_group": ("sample_from_group.py",),
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
    "perplexity_set": ("perplexity_set.py",),
    "accuracy_hist": ("accuracy_hist.py",),
    "analysis_figures": ("analysis_figures.py",),
    "delta_se": ("delta_se.py",),
    "guessable_filter": ("guessable_filter.py",),
    "token_nll": ("token_nll.py",),
    "entropy": ("entropy.py",),
    "entropy_table": ("entropy_table.py",),
    "review": ("review_sheet.py",),
    "review_table": ("review_table.py",),
    "summary": ("summary.py",),
    "training_dynamics": ("training_dynamics.py",),
}

_STAMP_RE = re.compile(r"^(?P<stage>[\w-]+)(?:\[(?P<args>[^\]]*)\])?:(?P<kind>manual|auto)-(?P<digest>\S+)$")
_scripts_dir: Path | None = None


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
        from rlvr_eval.verify.graders import GRADER_VERSIONS, GRADERS

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
    return closure.PACKAGE_ROOT / "provenance" / "legacy_stamps.yaml"


@functools.lru_cache(maxsize=1)
def legacy_stamps() -> dict[str, dict[str, str]]:
    """{stamp head: {digest: the digest that code had before stamps ignored where code lives}}.

    Written once by a script, when the package moved into subpackages and the digests changed scheme
    (closure.statement_digests): for each stage, the code after the move is the code before it less statements it
    no longer reaches (the script checked that), so results made before need no rerun. An edit of a stage gives it
    a digest this table does not hold: it can only ever spare reruns of the same code.
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
