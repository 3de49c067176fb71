"""The code a stage runs: the rlvr_eval modules a rule script reaches by import, and digests of their statements
that do not depend on where the code lives (rlvr_eval.provenance.stamps builds the stamps from them)."""

from __future__ import annotations

import ast
import functools
import hashlib
import sys
from pathlib import Path
from typing import Iterable

PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # src/rlvr_eval
# Modules that record or report but never compute a result: their edits must not rerun anything.
NEUTRAL_MODULES = frozenset({"rlvr_eval.provenance", "rlvr_eval.cli", "rlvr_eval.console"})


def is_neutral(module: str) -> bool:
    """A neutral module, or a module inside a neutral package."""
    return any(module == m or module.startswith(m + ".") for m in NEUTRAL_MODULES)



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


class _WithoutInternalImports(ast.NodeTransformer):
    """Imports of rlvr_eval are left out, at any depth: the closure holds the code they bind, so moving code
    inside the package leaves every statement as it was."""

    def __init__(self, me: str | None, is_pkg: bool):
        self.me, self.is_pkg = me, is_pkg

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST | None:
        base = _resolve_from(node, self.me, self.is_pkg)
        return None if base is not None and _is_internal(base) else node

    def visit_Import(self, node: ast.Import) -> ast.AST | None:
        node.names = [a for a in node.names if not _is_internal(a.name)]
        return node if node.names else None

    def generic_visit(self, node: ast.AST) -> ast.AST:
        super().generic_visit(node)
        if isinstance(getattr(node, "body", None), list) and not node.body and not isinstance(node, ast.Module):
            node.body = [ast.Pass()]  # a function whose only statement was such an import
        return node


@functools.lru_cache(maxsize=None)
def statement_digests(source: str, me: str | None = None, is_pkg: bool = False) -> frozenset[str]:
    """sha256 of each top-level statement of module `me`, without docstrings and imports of rlvr_eval.

    A stage's stamp digests the set of these over its closure: moving a function or a constant to another module
    of the closure, or a module to another package, changes no stamp; changing a statement does. What the set
    cannot see: the order of top-level statements (a name bound twice at module level, in swapped order), and
    which of two same-named objects of the closure an import binds."""
    tree = _WithoutInternalImports(me, is_pkg).visit(_strip_docstrings(ast.parse(source)))
    return frozenset(hashlib.sha256(ast.unparse(stmt).encode()).hexdigest() for stmt in tree.body
                     if not isinstance(stmt, ast.Pass))  # Pass: what a module of only a docstring leaves


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
    importing a module runs them, except the top one (the package's version: a release reruns nothing).
    NEUTRAL_MODULES are not followed.
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
        if name in digests or is_neutral(name) or name == "rlvr_eval":  # its __init__ holds only the version
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
