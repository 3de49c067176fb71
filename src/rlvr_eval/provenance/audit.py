"""Audit results against their provenance records (`rlvr-eval audit`): where did this number come from,
and is it still what the record says?

For each artifact (a file or directory under results/, or the lineage of the paths given) it recomputes
sha256 hashes and walks the records (`<artifact>.prov.json`, rlvr_eval.provenance.records) back through every input
to the model manifests and benchmark source files. Findings:

* missing    -- an artifact named by a record (or given on the command line) does not exist;
* altered    -- an artifact's content differs from the hash recorded when it was made;
* stale      -- an input's current content differs from the hash recorded when the artifact was made, or
                an input is itself missing, altered or stale (so everything downstream of a changed
                sample is named);
* outdated   -- made by code other than the code a rerun would use: its stage's logic stamp has changed (so
                `snakemake -n` plans it too), or a manual stage's version does not accept the sources that
                made it (rlvr_eval.provenance.stamps: manual stamps);
* unrecorded -- an artifact under results/ has no provenance record (its script does not use
                `with logged(snakemake):`) or a record points to an input record that is gone.

Everything downstream of a missing, altered or outdated artifact is stale.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from rlvr_eval.provenance import stamps
from rlvr_eval.provenance.records import SIDECAR_SUFFIX, describe, is_sidecar, read_record, sidecar

BAD = ("missing", "altered", "outdated", "stale", "unrecorded")
ORDER = {"missing": 0, "altered": 1, "outdated": 2, "stale": 3, "unrecorded": 4}


@dataclass
class Node:
    path: str
    record: dict | None
    exists: bool
    problems: list[tuple[str, str]] = field(default_factory=list)  # (kind, detail)
    inputs: list[str] = field(default_factory=list)
    source: bool = False  # a leaf without a record (benchmark source file)
    depth: int = 0

    @property
    def status(self) -> str:
        if not self.problems:
            return "source" if self.source else "ok"
        return min((k for k, _ in self.problems), key=ORDER.__getitem__)


def _short(digest: str | None) -> str:
    return (digest or "-")[:12]


class Auditor:
    def __init__(self, workdir: str | os.PathLike = ".", workflow_dir: str | os.PathLike | None = None):
        self.workdir = Path(workdir).resolve()
        self.nodes: dict[str, Node] = {}
        self._current: dict[str, dict | None] = {}
        wf = Path(workflow_dir) if workflow_dir else self.workdir
        self.check_code = (wf / "workflow" / "scripts").is_dir()
        if self.check_code:
            stamps.set_workflow_dir(wf)

    # --- paths and hashes ---
    def key(self, path: str | os.PathLike) -> str:
        """Paths as records name them: relative to the working directory where possible."""
        p = Path(path)
        if p.is_absolute():
            try:
                return os.path.normpath(p.relative_to(self.workdir))
            except ValueError:
                return os.path.normpath(p)
        return os.path.normpath(p)

    def abs(self, key: str) -> Path:
        p = Path(key)
        return p if p.is_absolute() else self.workdir / p

    def current(self, key: str) -> dict | None:
        if key not in self._current:
            p = self.abs(key)
            self._current[key] = describe(p) if p.exists() else None
        return self._current[key]

    # --- the walk ---
    def visit(self, path: str | os.PathLike, expect_record: bool | str = True) -> Node:
        """expect_record: True (an artifact), "pointer" (an input whose record existed when it was used), False."""
        key = self.key(path)
        if key in self.nodes:
            return self.nodes[key]
        p = self.abs(key)
        record = read_record(p)
        node = Node(key, record, p.exists())
        self.nodes[key] = node  # before recursing (records form a DAG; this also guards against a cyclic mess)
        if record is None:
            if not node.exists:
                node.problems.append(("missing", "does not exist, and there is no record of it"))
            elif expect_record:
                why = ("the record that was there when it was used is gone" if expect_record == "pointer" else
                       "not a declared output of a rule whose script runs `with logged(snakemake):`")
                node.problems.append(("unrecorded", f"no provenance record ({Path(key).name}{SIDECAR_SUFFIX}): {why}"))
            else:
                node.source = True
            return node
        made = f"made by rule {record.get('rule')} at {record.get('finished')}"
        recorded = (record.get("outputs") or {}).get(record.get("artifact") or key) or {}
        if not node.exists:
            node.problems.append(("missing", f"does not exist ({made}; its record is still there)"))
        else:
            cur = self.current(key)
            if cur is not None and cur["sha256"] != recorded.get("sha256"):
                node.problems.append(("altered", f"content sha256 {_short(cur['sha256'])} ≠ recorded "
                                      f"{_short(recorded.get('sha256'))} ({made}){_dir_diff(cur, recorded)}"))
        depth, upstream = 0, []
        for ipath, ientry in (record.get("inputs") or {}).items():
            ikey = self.key(ipath)
            child = self.visit(ipath, expect_record="pointer" if ientry.get("record") else False)
            node.inputs.append(ikey)
            depth = max(depth, child.depth + 1)
            cur = self.current(ikey)
            if cur is None:
                node.problems.append(("stale", f"input {ikey} is missing"))
            elif cur["sha256"] != ientry.get("sha256"):
                node.problems.append(("stale", f"input {ikey} changed since this was made "
                                      f"(sha256 now {_short(cur['sha256'])}, recorded {_short(ientry.get('sha256'))})"))
            elif child.status in BAD:
                upstream.append(f"{ikey} is {child.status}")
        if upstream:  # made from inputs that are themselves missing, altered or stale
            more = f" (and {len(upstream) - 3} more)" if len(upstream) > 3 else ""
            node.problems.append(("stale", f"upstream {'; '.join(upstream[:3])}{more}"))
        node.depth = depth
        if self.check_code:
            node.problems.extend(("outdated", why) for why in _code_findings(record))
        return node

    def audit(self, paths: Iterable[str | os.PathLike]) -> list[Node]:
        """Visit the given artifacts (directories: every artifact under them) and their lineage."""
        starts = []
        for path in paths:
            p = Path(path)
            p = p if p.is_absolute() else self.workdir / p
            if p.is_dir() and not sidecar(p).is_file():
                starts.extend(artifacts_under(p))
            else:
                starts.append(p)
        for s in starts:
            self.visit(s, expect_record=True)
        return [self.nodes[self.key(s)] for s in starts]

    def findings(self) -> list[Node]:
        bad = [n for n in self.nodes.values() if n.problems]
        return sorted(bad, key=lambda n: (n.depth, n.path))

    def roots(self) -> dict:
        """Models and datasets named by the records visited."""
        out: dict[str, dict] = {"models": {}, "datasets": {}}
        for n in self.nodes.values():
            for kind in out:
                out[kind].update((n.record or {}).get("roots", {}).get(kind, {}))
        return {k: dict(sorted(v.items())) for k, v in out.items()}


def _dir_diff(cur: dict, recorded: dict) -> str:
    a, b = cur.get("files"), recorded.get("files")
    if not isinstance(a, dict) or not isinstance(b, dict):
        return ""
    changed = sorted(f for f in set(a) | set(b) if a.get(f) != b.get(f))
    return f"; files differing: {', '.join(changed[:5])}{' …' if len(changed) > 5 else ''}" if changed else ""


def _code_findings(record: dict) -> list[str]:
    """Why the code that made this artifact is not the code a rerun would use (nothing if it is)."""
    logic = record.get("logic") or {}
    parsed = stamps.parse_stamp(logic.get("stamp", ""))
    if not parsed:
        return []
    stage = parsed["stage"]
    try:
        now = stamps.logic_version(stage, parsed["script"], parsed["grader"])
        if now != logic["stamp"]:
            return [f"made by other {stage} code (logic {logic['stamp']}, now {now}): Snakemake will rerun it"]
        if parsed["kind"] == "manual" and logic.get("sources_digest"):
            accepted = stamps.manual_stamps()[stage]["accepts"]
            current = stamps.logic_details(stage)["digest"]
            if current not in accepted:
                return [f"the {stage} code changed since this was made (sources {logic['sources_digest']}, now "
                        f"{current}) but its version ({logic['stamp']}) does not say whether that changes it: "
                        f"`rlvr-eval logic --bump {stage}` recomputes it, `rlvr-eval logic --accept {stage}` "
                        "declares the edit output-neutral"]
            if logic["sources_digest"] not in accepted:
                return [f"made by {stage} code (sources {logic['sources_digest']}) that its version {logic['stamp']} "
                        f"does not accept ({', '.join(accepted)}): recompute it (`rlvr-eval logic --bump {stage}`), "
                        f"or accept that code if it made the same outputs (`rlvr-eval logic --accept {stage}` with it)"]
    except (ValueError, OSError, SyntaxError, KeyError) as e:
        return [f"cannot check the code of stage {stage}: {e}"]
    return []


REPORT_NAME = "report.html"


def artifacts_under(directory: str | os.PathLike) -> Iterator[Path]:
    """Every artifact under `directory`: files, directories with a record, and records whose artifact is gone."""
    directory = Path(directory)
    seen = set()
    for root, dirs, files in os.walk(directory):
        root_p = Path(root)
        keep = []
        for d in sorted(dirs):
            if d.startswith(".") or d.endswith(".partial"):
                continue
            if sidecar(root_p / d).is_file():
                seen.add(root_p / d)
                yield root_p / d  # a directory artifact (e.g. a model's weights): its files are its content
            else:
                keep.append(d)
        dirs[:] = keep
        for f in sorted(files):
            if f.startswith(".") or (root_p == directory and f == REPORT_NAME):
                continue  # temporary files of atomic writes; `snakemake --report` output, made of recorded files
            p = root_p / f
            if is_sidecar(f):
                target = Path(str(p)[: -len(SIDECAR_SUFFIX)])
                if not target.exists() and target not in seen:
                    seen.add(target)
                    yield target  # recorded, now gone
                continue
            if p not in seen:
                seen.add(p)
                yield p


# --- reporting ---
def format_findings(auditor: Auditor) -> list[str]:
    lines = []
    for n in auditor.findings():
        kind = n.status
        lines.append(f"{kind.upper():<11} {n.path}")
        for k, detail in sorted(n.problems, key=lambda kd: ORDER[kd[0]]):
            lines.append(f"{'':<11}   {k}: {detail}")
    return lines


def format_chain(auditor: Auditor, starts: list[Node], max_depth: int | None = None) -> list[str]:
    lines: list[str] = []
    shown: set[str] = set()

    def label(n: Node) -> str:
        rec = n.record or {}
        bits = [f"[{rec.get('rule')}, {n.status}]" if rec else f"[{n.status}]"]
        cur = auditor.current(n.path)
        if n.source and cur:
            bits.append(f"sha256 {cur['sha256']}")
        roots = rec.get("roots") or {}
        if rec.get("rule") in ("build_tiny_model", "stage_model"):
            for name, m in roots.get("models", {}).items():
                if m.get("manifest") == n.path or n.path == m.get("path"):
                    bits.append(f"model {name} revision {m.get('revision')}"
                                + (f" (weights sha256 {_short(m['weights_sha256'])})" if m.get("weights_sha256") else ""))
        if rec.get("rule") == "prepare_benchmark":
            for name, d in roots.get("datasets", {}).items():
                bits.append(f"dataset {name} source sha256 {d.get('sha256')}")
        return "  ".join(bits)

    def walk(key: str, prefix: str, last: bool, depth: int) -> None:
        n = auditor.nodes[key]
        branch = "" if depth == 0 else ("└── " if last else "├── ")
        if key in shown and n.inputs:
            lines.append(f"{prefix}{branch}{key}  (see above)")
            return
        shown.add(key)
        lines.append(f"{prefix}{branch}{key}  {label(n)}")
        if max_depth is not None and depth >= max_depth:
            return
        child_prefix = prefix if depth == 0 else prefix + ("    " if last else "│   ")
        for i, child in enumerate(n.inputs):
            walk(child, child_prefix, i == len(n.inputs) - 1, depth + 1)

    for s in starts:
        walk(s.path, "", True, 0)
    roots = auditor.roots()
    if roots["models"] or roots["datasets"]:
        lines.append("")
        lines.append("Models:")
        for name, m in roots["models"].items():
            extra = [f"{k} {m[k]}" for k in ("hf_id", "requested_revision", "weights_sha256", "manifest") if m.get(k)]
            lines.append(f"  {name}: revision {m.get('revision')} ({m.get('source')}){'; ' if extra else ''}{'; '.join(extra)}")
        lines.append("Datasets:")
        for name, d in roots["datasets"].items():
            lines.append(f"  {name}: source sha256 {d.get('sha256')} ({d.get('kind')} {d.get('source')}"
                         f"{', revision ' + str(d['revision']) if d.get('revision') else ''}), {d.get('problems')} problems"
                         f"{', limit ' + str(d['limit']) if d.get('limit') is not None else ''}")
    return lines


def run_audit(paths: list[str], workdir: str = ".", chain: bool = False, as_json: bool = False,
              depth: int | None = None, workflow_dir: str | None = None, out=None) -> int:
    """The `rlvr-eval audit` command; returns the exit status (0: clean, 1: findings)."""
    import sys

    out = out or sys.stdout
    auditor = Auditor(workdir, workflow_dir)
    if not paths:
        if not (auditor.workdir / "results").is_dir():
            print(f"rlvr-eval audit: {auditor.workdir / 'results'} does not exist: nothing to audit", file=out)
            return 1
        paths = [str(auditor.workdir / "results")]
    starts = auditor.audit(paths)
    findings = auditor.findings()
    failed = bool(findings)
    if as_json:
        json.dump({
            "checked": len(auditor.nodes),
            "findings": [{"path": n.path, "status": n.status, "problems": [{"kind": k, "detail": d} for k, d in n.problems]}
                         for n in findings],
            "roots": auditor.roots(),
            "chain": {n.path: n.inputs for n in auditor.nodes.values()} if chain else None,
        }, out, indent=2, default=str)
        out.write("\n")
        return 1 if failed else 0
    if chain:
        for line in format_chain(auditor, starts, depth):
            print(line, file=out)
        print(file=out)
    for line in format_findings(auditor):
        print(line, file=out)
    counts = {k: sum(n.status == k for n in findings) for k in BAD}
    summary = ", ".join(f"{v} {k}" for k, v in counts.items() if v) or "no findings"
    print(f"rlvr-eval audit: {len(auditor.nodes)} artifacts and sources checked: {summary}"
          , file=out)
    return 1 if failed else 0
