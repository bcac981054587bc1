"""Makes the rems tables that hold signed or witnessed facts append-only: rems_remsform,
rems_remsfiling.

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
        """CREATE TRIGGER IF NOT EXISTS rems_remsform_append_only_update BEFORE UPDATE ON rems_remsform
                BEGIN SELECT RAISE(ABORT, 'rems_remsform is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS rems_remsform_append_only_delete BEFORE DELETE ON rems_remsform
                BEGIN SELECT RAISE(ABORT, 'rems_remsform is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS rems_remsfiling_append_only_update BEFORE UPDATE ON rems_remsfiling
                BEGIN SELECT RAISE(ABORT, 'rems_remsfiling is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS rems_remsfiling_append_only_delete BEFORE DELETE ON rems_remsfiling
                BEGIN SELECT RAISE(ABORT, 'rems_remsfiling is append-only: DELETE refused'); END""",
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER rems_remsform_append_only BEFORE UPDATE OR DELETE ON rems_remsform
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER rems_remsfiling_append_only BEFORE UPDATE OR DELETE ON rems_remsfiling
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
    ],
}

BACKWARDS = {
    "sqlite": [
        """DROP TRIGGER IF EXISTS rems_remsform_append_only_update""",
        """DROP TRIGGER IF EXISTS rems_remsform_append_only_delete""",
        """DROP TRIGGER IF EXISTS rems_remsfiling_append_only_update""",
        """DROP TRIGGER IF EXISTS rems_remsfiling_append_only_delete""",
    ],
    "postgresql": [
        """DROP TRIGGER IF EXISTS rems_remsform_append_only ON rems_remsform""",
        """DROP TRIGGER IF EXISTS rems_remsfiling_append_only ON rems_remsfiling""",
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
    dependencies = [('rems', '0001_initial')]
    operations = [migrations.RunPython(_run(FORWARDS), _run(BACKWARDS))]
