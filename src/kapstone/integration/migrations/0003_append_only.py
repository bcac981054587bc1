"""Makes the integration tables that hold signed or witnessed facts append-only:
integration_integrationnote, integration_integrationnotesignature,
integration_integrationnoteaddendum, integration_processnote, integration_processnoteaccess.

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
        """CREATE TRIGGER IF NOT EXISTS integration_integrationnote_append_only_update BEFORE UPDATE ON integration_integrationnote
                BEGIN SELECT RAISE(ABORT, 'integration_integrationnote is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS integration_integrationnote_append_only_delete BEFORE DELETE ON integration_integrationnote
                BEGIN SELECT RAISE(ABORT, 'integration_integrationnote is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS integration_integrationnotesignature_append_only_update BEFORE UPDATE ON integration_integrationnotesignature
                BEGIN SELECT RAISE(ABORT, 'integration_integrationnotesignature is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS integration_integrationnotesignature_append_only_delete BEFORE DELETE ON integration_integrationnotesignature
                BEGIN SELECT RAISE(ABORT, 'integration_integrationnotesignature is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS integration_integrationnoteaddendum_append_only_update BEFORE UPDATE ON integration_integrationnoteaddendum
                BEGIN SELECT RAISE(ABORT, 'integration_integrationnoteaddendum is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS integration_integrationnoteaddendum_append_only_delete BEFORE DELETE ON integration_integrationnoteaddendum
                BEGIN SELECT RAISE(ABORT, 'integration_integrationnoteaddendum is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS integration_processnote_append_only_update BEFORE UPDATE ON integration_processnote
                BEGIN SELECT RAISE(ABORT, 'integration_processnote is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS integration_processnote_append_only_delete BEFORE DELETE ON integration_processnote
                BEGIN SELECT RAISE(ABORT, 'integration_processnote is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS integration_processnoteaccess_append_only_update BEFORE UPDATE ON integration_processnoteaccess
                BEGIN SELECT RAISE(ABORT, 'integration_processnoteaccess is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS integration_processnoteaccess_append_only_delete BEFORE DELETE ON integration_processnoteaccess
                BEGIN SELECT RAISE(ABORT, 'integration_processnoteaccess is append-only: DELETE refused'); END""",
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER integration_integrationnote_append_only BEFORE UPDATE OR DELETE ON integration_integrationnote
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER integration_integrationnotesignature_append_only BEFORE UPDATE OR DELETE ON integration_integrationnotesignature
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER integration_integrationnoteaddendum_append_only BEFORE UPDATE OR DELETE ON integration_integrationnoteaddendum
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER integration_processnote_append_only BEFORE UPDATE OR DELETE ON integration_processnote
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER integration_processnoteaccess_append_only BEFORE UPDATE OR DELETE ON integration_processnoteaccess
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
    ],
}

BACKWARDS = {
    "sqlite": [
        """DROP TRIGGER IF EXISTS integration_integrationnote_append_only_update""",
        """DROP TRIGGER IF EXISTS integration_integrationnote_append_only_delete""",
        """DROP TRIGGER IF EXISTS integration_integrationnotesignature_append_only_update""",
        """DROP TRIGGER IF EXISTS integration_integrationnotesignature_append_only_delete""",
        """DROP TRIGGER IF EXISTS integration_integrationnoteaddendum_append_only_update""",
        """DROP TRIGGER IF EXISTS integration_integrationnoteaddendum_append_only_delete""",
        """DROP TRIGGER IF EXISTS integration_processnote_append_only_update""",
        """DROP TRIGGER IF EXISTS integration_processnote_append_only_delete""",
        """DROP TRIGGER IF EXISTS integration_processnoteaccess_append_only_update""",
        """DROP TRIGGER IF EXISTS integration_processnoteaccess_append_only_delete""",
    ],
    "postgresql": [
        """DROP TRIGGER IF EXISTS integration_integrationnote_append_only ON integration_integrationnote""",
        """DROP TRIGGER IF EXISTS integration_integrationnotesignature_append_only ON integration_integrationnotesignature""",
        """DROP TRIGGER IF EXISTS integration_integrationnoteaddendum_append_only ON integration_integrationnoteaddendum""",
        """DROP TRIGGER IF EXISTS integration_processnote_append_only ON integration_processnote""",
        """DROP TRIGGER IF EXISTS integration_processnoteaccess_append_only ON integration_processnoteaccess""",
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
    dependencies = [('integration', '0002_notes')]
    operations = [migrations.RunPython(_run(FORWARDS), _run(BACKWARDS))]
