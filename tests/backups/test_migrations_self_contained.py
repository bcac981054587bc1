"""Migrations must not import live application code: what they build must not change when the code
does (a database made by an old release would otherwise migrate differently from a fresh one)."""

from __future__ import annotations

import ast
from pathlib import Path

MIGRATIONS = sorted((Path(__file__).parents[2] / "src" / "kapstone").glob("*/migrations/*.py"))


def kapstone_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""] if node.level == 0 else [f"(relative) {node.module}"]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
        ):
            names = [getattr(arg, "value", "?") for arg in node.args[:1]]
        else:
            continue
        found += [
            f"{path.relative_to(path.parents[3])}:{node.lineno} {name}"
            for name in names
            if str(name).split(".")[0] == "kapstone" or str(name).startswith("(relative)")
        ]
    return found


def test_there_are_migrations_to_check():
    assert len(MIGRATIONS) > 40


def test_no_migration_imports_application_code():
    offenders = [hit for path in MIGRATIONS for hit in kapstone_imports(path)]
    assert offenders == []


def test_the_check_finds_an_import(tmp_path):
    fake = tmp_path / "src" / "kapstone" / "x" / "migrations" / "0001_x.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("def f():\n    from kapstone.audit import triggers\nimport kapstone.clinical\n")
    assert len(kapstone_imports(fake)) == 2


def test_every_append_only_table_is_guarded_by_a_migration():
    """The test fixtures reinstall every guard in APPEND_ONLY_TABLES, which would hide a table whose
    migration never guarded it; a database built by ``migrate`` alone must hold them all."""
    from kapstone.audit.triggers import APPEND_ONLY_TABLES

    text = "\n".join(path.read_text(encoding="utf-8") for path in MIGRATIONS)
    unguarded = [table for table in APPEND_ONLY_TABLES if f"{table}_append_only" not in text]
    assert unguarded == []
