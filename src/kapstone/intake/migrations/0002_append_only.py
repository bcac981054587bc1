"""Makes the intake tables that hold signed or witnessed facts append-only: intake_intakeversion,
intake_eligibilityreview, intake_eligibilitysignature, intake_findingoverride,
intake_eligibilitycosignature.

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
        """CREATE TRIGGER IF NOT EXISTS intake_intakeversion_append_only_update BEFORE UPDATE ON intake_intakeversion
                BEGIN SELECT RAISE(ABORT, 'intake_intakeversion is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS intake_intakeversion_append_only_delete BEFORE DELETE ON intake_intakeversion
                BEGIN SELECT RAISE(ABORT, 'intake_intakeversion is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS intake_eligibilityreview_append_only_update BEFORE UPDATE ON intake_eligibilityreview
                BEGIN SELECT RAISE(ABORT, 'intake_eligibilityreview is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS intake_eligibilityreview_append_only_delete BEFORE DELETE ON intake_eligibilityreview
                BEGIN SELECT RAISE(ABORT, 'intake_eligibilityreview is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS intake_eligibilitysignature_append_only_update BEFORE UPDATE ON intake_eligibilitysignature
                BEGIN SELECT RAISE(ABORT, 'intake_eligibilitysignature is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS intake_eligibilitysignature_append_only_delete BEFORE DELETE ON intake_eligibilitysignature
                BEGIN SELECT RAISE(ABORT, 'intake_eligibilitysignature is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS intake_findingoverride_append_only_update BEFORE UPDATE ON intake_findingoverride
                BEGIN SELECT RAISE(ABORT, 'intake_findingoverride is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS intake_findingoverride_append_only_delete BEFORE DELETE ON intake_findingoverride
                BEGIN SELECT RAISE(ABORT, 'intake_findingoverride is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS intake_eligibilitycosignature_append_only_update BEFORE UPDATE ON intake_eligibilitycosignature
                BEGIN SELECT RAISE(ABORT, 'intake_eligibilitycosignature is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS intake_eligibilitycosignature_append_only_delete BEFORE DELETE ON intake_eligibilitycosignature
                BEGIN SELECT RAISE(ABORT, 'intake_eligibilitycosignature is append-only: DELETE refused'); END""",
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER intake_intakeversion_append_only BEFORE UPDATE OR DELETE ON intake_intakeversion
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER intake_eligibilityreview_append_only BEFORE UPDATE OR DELETE ON intake_eligibilityreview
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER intake_eligibilitysignature_append_only BEFORE UPDATE OR DELETE ON intake_eligibilitysignature
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER intake_findingoverride_append_only BEFORE UPDATE OR DELETE ON intake_findingoverride
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER intake_eligibilitycosignature_append_only BEFORE UPDATE OR DELETE ON intake_eligibilitycosignature
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
    ],
}

BACKWARDS = {
    "sqlite": [
        """DROP TRIGGER IF EXISTS intake_intakeversion_append_only_update""",
        """DROP TRIGGER IF EXISTS intake_intakeversion_append_only_delete""",
        """DROP TRIGGER IF EXISTS intake_eligibilityreview_append_only_update""",
        """DROP TRIGGER IF EXISTS intake_eligibilityreview_append_only_delete""",
        """DROP TRIGGER IF EXISTS intake_eligibilitysignature_append_only_update""",
        """DROP TRIGGER IF EXISTS intake_eligibilitysignature_append_only_delete""",
        """DROP TRIGGER IF EXISTS intake_findingoverride_append_only_update""",
        """DROP TRIGGER IF EXISTS intake_findingoverride_append_only_delete""",
        """DROP TRIGGER IF EXISTS intake_eligibilitycosignature_append_only_update""",
        """DROP TRIGGER IF EXISTS intake_eligibilitycosignature_append_only_delete""",
    ],
    "postgresql": [
        """DROP TRIGGER IF EXISTS intake_intakeversion_append_only ON intake_intakeversion""",
        """DROP TRIGGER IF EXISTS intake_eligibilityreview_append_only ON intake_eligibilityreview""",
        """DROP TRIGGER IF EXISTS intake_eligibilitysignature_append_only ON intake_eligibilitysignature""",
        """DROP TRIGGER IF EXISTS intake_findingoverride_append_only ON intake_findingoverride""",
        """DROP TRIGGER IF EXISTS intake_eligibilitycosignature_append_only ON intake_eligibilitycosignature""",
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
    dependencies = [('intake', '0001_initial')]
    operations = [migrations.RunPython(_run(FORWARDS), _run(BACKWARDS))]
