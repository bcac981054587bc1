"""Migrations must not import live application code: what they build must not change when the code
does (a database made by an old release would otherwise migrate differently from a fresh one)."""

from __future__ import annotations

import ast
import re
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


# A plain append-only guard is named after its table: on SQLite one trigger per refused statement,
# on PostgreSQL one for both (kapstone.audit.triggers._table_statements writes them).
TRIGGER = re.compile(
    r"CREATE (?:OR REPLACE )?TRIGGER (?:IF NOT EXISTS )?(\w+)\s+BEFORE ([A-Z ]+?) ON (\w+)"
)
FULL_GUARD = {
    ("_append_only_update", "UPDATE"),
    ("_append_only_delete", "DELETE"),
    ("_append_only", "UPDATE OR DELETE"),
}


def append_only_guards(texts: list[str]) -> dict[str, set[tuple[str, str]]]:
    """Table -> the (name suffix, statements) of each append-only trigger the texts create on it."""
    found: dict[str, set[tuple[str, str]]] = {}
    for text in texts:
        for trigger, events, table in TRIGGER.findall(text):
            suffix = trigger.removeprefix(table)
            if trigger.startswith(table) and suffix.startswith("_append_only"):
                found.setdefault(table, set()).add((suffix, events))
    return found


def migration_guards() -> dict[str, set[tuple[str, str]]]:
    return append_only_guards([path.read_text(encoding="utf-8") for path in MIGRATIONS])


def test_every_append_only_table_is_guarded_by_a_migration():
    """The test fixtures reinstall the guard of every AppendOnly model's table, which would hide a
    table whose migration never guarded it; a database built by ``migrate`` alone must hold them all,
    on SQLite (UPDATE and DELETE) and on PostgreSQL."""
    from kapstone.audit.triggers import append_only_tables

    guards = migration_guards()
    unguarded = [table for table in append_only_tables() if guards.get(table) != FULL_GUARD]
    assert unguarded == []


def test_every_table_a_migration_guards_is_an_append_only_model():
    """The converse: a table the database refuses to change has a model that refuses it first (and
    whose guard the fixtures put back), so none is append-only by its migration alone."""
    from kapstone.audit.triggers import append_only_tables

    models_say = set(append_only_tables())
    only_migrations_say = sorted(set(migration_guards()) - models_say)
    assert only_migrations_say == []
    # The signed clinical records, the alert board and the ledger, at least: the list is not empty.
    assert {"safety_safetyalert", "ledger_ledgerentry", "chairside_vitalreading"} <= models_say


def test_the_guard_check_tells_a_full_guard_from_a_partial_one():
    sqlite_update_only = """CREATE TRIGGER IF NOT EXISTS x_note_append_only_update BEFORE UPDATE ON x_note
        BEGIN SELECT RAISE(ABORT, 'x_note is append-only: UPDATE refused'); END"""
    sqlite_delete = """CREATE TRIGGER IF NOT EXISTS x_note_append_only_delete
        BEFORE DELETE ON x_note BEGIN SELECT RAISE(ABORT, 'refused'); END"""
    postgres = """CREATE OR REPLACE TRIGGER x_note_append_only BEFORE UPDATE OR DELETE ON x_note
        FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()"""
    audit = """CREATE OR REPLACE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON x_log
        FOR EACH ROW EXECUTE FUNCTION kapstone_audit_append_only()"""
    assert append_only_guards([sqlite_update_only, audit]) == {
        "x_note": {("_append_only_update", "UPDATE")}
    }
    assert append_only_guards([sqlite_update_only, sqlite_delete, postgres]) == {
        "x_note": FULL_GUARD
    }
