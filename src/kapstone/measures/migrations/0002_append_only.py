"""Makes the measures tables that hold signed or witnessed facts append-only:
measures_measurementcareplan, measures_measurereminder.

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
        """CREATE TRIGGER IF NOT EXISTS measures_measurementcareplan_append_only_update BEFORE UPDATE ON measures_measurementcareplan
                BEGIN SELECT RAISE(ABORT, 'measures_measurementcareplan is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS measures_measurementcareplan_append_only_delete BEFORE DELETE ON measures_measurementcareplan
                BEGIN SELECT RAISE(ABORT, 'measures_measurementcareplan is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS measures_measurereminder_append_only_update BEFORE UPDATE ON measures_measurereminder
                BEGIN SELECT RAISE(ABORT, 'measures_measurereminder is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS measures_measurereminder_append_only_delete BEFORE DELETE ON measures_measurereminder
                BEGIN SELECT RAISE(ABORT, 'measures_measurereminder is append-only: DELETE refused'); END""",
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER measures_measurementcareplan_append_only BEFORE UPDATE OR DELETE ON measures_measurementcareplan
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER measures_measurereminder_append_only BEFORE UPDATE OR DELETE ON measures_measurereminder
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
    ],
}

BACKWARDS = {
    "sqlite": [
        """DROP TRIGGER IF EXISTS measures_measurementcareplan_append_only_update""",
        """DROP TRIGGER IF EXISTS measures_measurementcareplan_append_only_delete""",
        """DROP TRIGGER IF EXISTS measures_measurereminder_append_only_update""",
        """DROP TRIGGER IF EXISTS measures_measurereminder_append_only_delete""",
    ],
    "postgresql": [
        """DROP TRIGGER IF EXISTS measures_measurementcareplan_append_only ON measures_measurementcareplan""",
        """DROP TRIGGER IF EXISTS measures_measurereminder_append_only ON measures_measurereminder""",
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
    dependencies = [('measures', '0001_initial')]
    operations = [migrations.RunPython(_run(FORWARDS), _run(BACKWARDS))]
