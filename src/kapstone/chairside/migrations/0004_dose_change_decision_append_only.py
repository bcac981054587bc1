"""A prescriber's dose-change decision is written once: the database refuses UPDATE and DELETE.

The SQL is written out here (what ``kapstone.audit.triggers`` produced when this migration was made) so
that later changes to the running code cannot change what this migration did.
"""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

SQLITE_CREATE = [
    """CREATE TRIGGER IF NOT EXISTS chairside_dosechangedecision_append_only_update
       BEFORE UPDATE ON chairside_dosechangedecision
       BEGIN SELECT RAISE(ABORT, 'chairside_dosechangedecision is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER IF NOT EXISTS chairside_dosechangedecision_append_only_delete
       BEFORE DELETE ON chairside_dosechangedecision
       BEGIN SELECT RAISE(ABORT, 'chairside_dosechangedecision is append-only: DELETE refused'); END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS chairside_dosechangedecision_append_only_update",
    "DROP TRIGGER IF EXISTS chairside_dosechangedecision_append_only_delete",
]
# kapstone_append_only() exists since 0002_guards; redefining it here, in other whitespace, would
# make the function's text depend on the order apps happen to migrate in.
POSTGRES_CREATE = [
    """CREATE OR REPLACE TRIGGER chairside_dosechangedecision_append_only
       BEFORE UPDATE OR DELETE ON chairside_dosechangedecision
       FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS chairside_dosechangedecision_append_only ON chairside_dosechangedecision"
]


def _run(schema_editor: BaseDatabaseSchemaEditor, *, create: bool) -> None:
    sqlite = schema_editor.connection.vendor == "sqlite"
    if create:
        statements = SQLITE_CREATE if sqlite else POSTGRES_CREATE
    else:
        statements = SQLITE_DROP if sqlite else POSTGRES_DROP
    with schema_editor.connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def forwards(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _run(schema_editor, create=True)


def backwards(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _run(schema_editor, create=False)


class Migration(migrations.Migration):
    dependencies = [("chairside", "0003_dose_change_decision")]
    operations = [migrations.RunPython(forwards, backwards)]
