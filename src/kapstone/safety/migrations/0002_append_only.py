"""Makes the safety tables that hold signed or witnessed facts append-only: safety_safetyalert,
safety_alertacknowledgement, safety_alertescalation, safety_alertnotice, safety_dosinghold,
safety_holdreview.

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
        """CREATE TRIGGER IF NOT EXISTS safety_safetyalert_append_only_update BEFORE UPDATE ON safety_safetyalert
                BEGIN SELECT RAISE(ABORT, 'safety_safetyalert is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS safety_safetyalert_append_only_delete BEFORE DELETE ON safety_safetyalert
                BEGIN SELECT RAISE(ABORT, 'safety_safetyalert is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS safety_alertacknowledgement_append_only_update BEFORE UPDATE ON safety_alertacknowledgement
                BEGIN SELECT RAISE(ABORT, 'safety_alertacknowledgement is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS safety_alertacknowledgement_append_only_delete BEFORE DELETE ON safety_alertacknowledgement
                BEGIN SELECT RAISE(ABORT, 'safety_alertacknowledgement is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS safety_alertescalation_append_only_update BEFORE UPDATE ON safety_alertescalation
                BEGIN SELECT RAISE(ABORT, 'safety_alertescalation is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS safety_alertescalation_append_only_delete BEFORE DELETE ON safety_alertescalation
                BEGIN SELECT RAISE(ABORT, 'safety_alertescalation is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS safety_alertnotice_append_only_update BEFORE UPDATE ON safety_alertnotice
                BEGIN SELECT RAISE(ABORT, 'safety_alertnotice is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS safety_alertnotice_append_only_delete BEFORE DELETE ON safety_alertnotice
                BEGIN SELECT RAISE(ABORT, 'safety_alertnotice is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS safety_dosinghold_append_only_update BEFORE UPDATE ON safety_dosinghold
                BEGIN SELECT RAISE(ABORT, 'safety_dosinghold is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS safety_dosinghold_append_only_delete BEFORE DELETE ON safety_dosinghold
                BEGIN SELECT RAISE(ABORT, 'safety_dosinghold is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS safety_holdreview_append_only_update BEFORE UPDATE ON safety_holdreview
                BEGIN SELECT RAISE(ABORT, 'safety_holdreview is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS safety_holdreview_append_only_delete BEFORE DELETE ON safety_holdreview
                BEGIN SELECT RAISE(ABORT, 'safety_holdreview is append-only: DELETE refused'); END""",
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER safety_safetyalert_append_only BEFORE UPDATE OR DELETE ON safety_safetyalert
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER safety_alertacknowledgement_append_only BEFORE UPDATE OR DELETE ON safety_alertacknowledgement
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER safety_alertescalation_append_only BEFORE UPDATE OR DELETE ON safety_alertescalation
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER safety_alertnotice_append_only BEFORE UPDATE OR DELETE ON safety_alertnotice
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER safety_dosinghold_append_only BEFORE UPDATE OR DELETE ON safety_dosinghold
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER safety_holdreview_append_only BEFORE UPDATE OR DELETE ON safety_holdreview
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
    ],
}

BACKWARDS = {
    "sqlite": [
        """DROP TRIGGER IF EXISTS safety_safetyalert_append_only_update""",
        """DROP TRIGGER IF EXISTS safety_safetyalert_append_only_delete""",
        """DROP TRIGGER IF EXISTS safety_alertacknowledgement_append_only_update""",
        """DROP TRIGGER IF EXISTS safety_alertacknowledgement_append_only_delete""",
        """DROP TRIGGER IF EXISTS safety_alertescalation_append_only_update""",
        """DROP TRIGGER IF EXISTS safety_alertescalation_append_only_delete""",
        """DROP TRIGGER IF EXISTS safety_alertnotice_append_only_update""",
        """DROP TRIGGER IF EXISTS safety_alertnotice_append_only_delete""",
        """DROP TRIGGER IF EXISTS safety_dosinghold_append_only_update""",
        """DROP TRIGGER IF EXISTS safety_dosinghold_append_only_delete""",
        """DROP TRIGGER IF EXISTS safety_holdreview_append_only_update""",
        """DROP TRIGGER IF EXISTS safety_holdreview_append_only_delete""",
    ],
    "postgresql": [
        """DROP TRIGGER IF EXISTS safety_safetyalert_append_only ON safety_safetyalert""",
        """DROP TRIGGER IF EXISTS safety_alertacknowledgement_append_only ON safety_alertacknowledgement""",
        """DROP TRIGGER IF EXISTS safety_alertescalation_append_only ON safety_alertescalation""",
        """DROP TRIGGER IF EXISTS safety_alertnotice_append_only ON safety_alertnotice""",
        """DROP TRIGGER IF EXISTS safety_dosinghold_append_only ON safety_dosinghold""",
        """DROP TRIGGER IF EXISTS safety_holdreview_append_only ON safety_holdreview""",
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
    dependencies = [('safety', '0001_initial')]
    operations = [migrations.RunPython(_run(FORWARDS), _run(BACKWARDS))]
