"""Whether a dotted code path or a pytest node id names something that exists, read from the source.

The source is parsed, not imported: the check runs without Django set up, in a second, and a module
that imports the world is read like any other. A path is ``package.module`` followed by names
defined in it (a function, a class, a class's method, an assignment or an import).
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path


@cache
def _tree(path: Path) -> ast.Module | None:
    try:
        return ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return None


def _defines(body: list[ast.stmt], name: str) -> ast.ClassDef | ast.stmt | None:
    for node in body:
        if (
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and node.name == name
        ):
            return node
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return node
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == name
        ):
            return node
        if isinstance(node, ast.ImportFrom | ast.Import) and any(
            (a.asname or a.name.split(".")[0]) == name for a in node.names
        ):
            return node
        if isinstance(node, ast.If | ast.Try):  # TYPE_CHECKING blocks, optional imports
            inner = [*node.body, *getattr(node, "orelse", [])]
            found = _defines(inner, name)
            if found is not None:
                return found
    return None


def _names_exist(tree: ast.Module, names: list[str]) -> bool:
    body: list[ast.stmt] = tree.body
    for name in names:
        found = _defines(body, name)
        if found is None:
            return False
        body = found.body if isinstance(found, ast.ClassDef) else []
        if not isinstance(found, ast.ClassDef) and name != names[-1]:
            return False
    return True


def code_exists(dotted: str, src: Path) -> bool:
    """``kapstone.chairside.services.vitals.record_vitals`` under ``src``: the longest prefix that is
    a module or package, then names defined in it."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        base = src.joinpath(*parts[:cut])
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                tree = _tree(candidate)
                return tree is not None and _names_exist(tree, parts[cut:])
    return False


def test_exists(node_id: str, root: Path) -> bool:
    """``tests/x.py::test_y`` (or ``::Class::test_y``, or with ``[params]``) is defined in the file."""
    file, _, rest = node_id.partition("::")
    tree = _tree(root / file)
    if tree is None or not rest:
        return False
    names = [n.split("[")[0] for n in rest.split("::")]
    return _names_exist(tree, names)
