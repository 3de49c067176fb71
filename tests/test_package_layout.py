"""The package's shape: subpackages by workflow stage, imports only down the layers, no import circles, small modules,
and each rule script importing from its stage's subpackage."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "rlvr_eval"

# Lowest first: a module may import from its own subpackage and from those before it, never from one after it.
LAYERS = ["io", "console", "data", "sampling", "models", "verify", "code", "metrics", "analysis", "plots", "planning",
          "provenance", "cli"]
MAX_LINES = 400
# One file on purpose: the program the code sandbox starts as `python -I -S sandbox_stub.py` (no package imports).
SINGLE_FILE_PROGRAMS = {"rlvr_eval.code.sandbox_stub": 420}
# rule file -> the subpackages its scripts may import (besides rlvr_eval.io and rlvr_eval.provenance)
RULE_FILE_PACKAGES = {"data.smk": {"data"}, "models.smk": {"models"}, "sampling.smk": {"sampling"},
                      "verification.smk": {"verify"}, "code.smk": {"code"}, "metrics.smk": {"metrics", "plots"},
                      "grading.smk": {"analysis"}, "analysis.smk": {"analysis", "plots"},
                      "checkpoints.smk": {"metrics", "plots"}}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported(path: Path) -> set[str]:
    """rlvr_eval modules `path` imports, at any depth (`from a import b` counts a.b when b is a module)."""
    known = modules()
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        out |= {n for n in names if n in known and n != "rlvr_eval"}
    return out


def layer(module: str) -> int:
    top = module.split(".")[1]
    return LAYERS.index(top)


def test_every_subpackage_has_a_layer():
    tops = {name.split(".")[1] for name in modules() if name != "rlvr_eval"}
    assert tops <= set(LAYERS), f"place {sorted(tops - set(LAYERS))} in LAYERS"


def test_imports_go_down_the_layers_only():
    up = [f"{m} imports {dep}" for m, path in modules().items() if m != "rlvr_eval"
          for dep in sorted(imported(path)) if layer(dep) > layer(m)]
    assert not up, "imports up a layer:\n" + "\n".join(up)


def test_no_import_circles():
    graph = {m: imported(p) for m, p in modules().items()}
    circles, done = [], set()

    def visit(node: str, stack: list[str]) -> None:
        if node in stack:
            circles.append(" -> ".join(stack[stack.index(node):] + [node]))
            return
        if node in done:
            return
        for dep in sorted(graph.get(node, ())):
            visit(dep, stack + [node])
        done.add(node)

    for m in sorted(graph):
        visit(m, [])
    assert not circles, "import circles:\n" + "\n".join(circles)


def test_the_circle_check_finds_a_circle(tmp_path, monkeypatch):
    """The check above is not vacuous: two modules importing each other are reported."""
    pkg = tmp_path / "rlvr_eval"
    (pkg / "data").mkdir(parents=True)
    for f in ("__init__.py", "data/__init__.py"):
        (pkg / f).write_text("")
    (pkg / "data" / "a.py").write_text("from rlvr_eval.data import b\n")
    (pkg / "data" / "b.py").write_text("def f():\n    from rlvr_eval.data.a import g\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", pkg)
    try:
        test_no_import_circles()
    except AssertionError as e:
        assert "rlvr_eval.data.a -> rlvr_eval.data.b -> rlvr_eval.data.a" in str(e)
    else:
        raise AssertionError("a circle went unnoticed")


def test_modules_are_small_and_say_what_they_hold():
    long = [f"{m}: {n} lines" for m, p in modules().items()
            if (n := len(p.read_text().splitlines())) > SINGLE_FILE_PROGRAMS.get(m, MAX_LINES)]
    assert not long, f"modules over {MAX_LINES} lines (split them by idea):\n" + "\n".join(long)
    undocumented = [m for m, p in modules().items() if ast.get_docstring(ast.parse(p.read_text())) is None]
    assert not undocumented, f"modules without a docstring saying what they hold: {undocumented}"


def test_each_rule_script_imports_from_its_stage():
    scripts = REPO / "workflow" / "scripts"
    stray = []
    for smk, allowed in RULE_FILE_PACKAGES.items():
        for script in re.findall(r'script:\s*\n\s*"\.\./scripts/([\w.]+)"', (REPO / "workflow" / "rules" / smk).read_text()):
            for dep in imported(scripts / script):
                top = dep.split(".")[1]
                if top not in allowed | {"io", "provenance"}:  # every script records provenance
                    stray.append(f"{smk}: {script} imports {dep}")
    assert not stray, "\n".join(stray)
