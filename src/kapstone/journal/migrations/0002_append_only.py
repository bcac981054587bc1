"""Makes the journal's entries (each edit is a new version) append-only:
journal_journalentry.

The SQL is written out here rather than imported: a migration must go on building the database it
built when it was written, whatever the application code (kapstone.audit.triggers, which
generated these statements) becomes later.
"""

from collections.abc import Callable

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

FORWARDS = {
    "sqlite": [
        """CREATE TRIGGER IF NOT EXISTS journal_journalentry_append_only_update BEFORE UPDATE ON journal_journalentry
                BEGIN SELECT RAISE(ABORT, 'journal_journalentry is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS journal_journalentry_append_only_delete BEFORE DELETE ON journal_journalentry
                BEGIN SELECT RAISE(ABORT, 'journal_journalentry is append-only: DELETE refused'); END""",
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER journal_journalentry_append_only BEFORE UPDATE OR DELETE ON journal_journalentry
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
    ],
}

BACKWARDS = {
    "sqlite": [
        """DROP TRIGGER IF EXISTS journal_journalentry_append_only_update""",
        """DROP TRIGGER IF EXISTS journal_journalentry_append_only_delete""",
    ],
    "postgresql": [
        """DROP TRIGGER IF EXISTS journal_journalentry_append_only ON journal_journalentry""",
    ],
}


def _run(
    statements: dict[str, list[str]],
) -> Callable[[Apps, BaseDatabaseSchemaEditor], None]:
    def apply(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        vendor = schema_editor.connection.vendor
        if vendor not in statements:
            raise NotImplementedError(f"no append-only triggers written for {vendor}")
        with schema_editor.connection.cursor() as cursor:
            for sql in statements[vendor]:
                cursor.execute(sql)

    return apply


class Migration(migrations.Migration):

    dependencies = [('journal', '0001_initial')]
    operations = [migrations.RunPython(_run(FORWARDS), _run(BACKWARDS))]
