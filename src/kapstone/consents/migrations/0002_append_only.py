"""Makes the consent texts and the patients' signatures append-only:
consents_consentdocument, consents_consentsignature.

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
        """CREATE TRIGGER IF NOT EXISTS consents_consentdocument_append_only_update BEFORE UPDATE ON consents_consentdocument
                BEGIN SELECT RAISE(ABORT, 'consents_consentdocument is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS consents_consentdocument_append_only_delete BEFORE DELETE ON consents_consentdocument
                BEGIN SELECT RAISE(ABORT, 'consents_consentdocument is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS consents_consentsignature_append_only_update BEFORE UPDATE ON consents_consentsignature
                BEGIN SELECT RAISE(ABORT, 'consents_consentsignature is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS consents_consentsignature_append_only_delete BEFORE DELETE ON consents_consentsignature
                BEGIN SELECT RAISE(ABORT, 'consents_consentsignature is append-only: DELETE refused'); END""",
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER consents_consentdocument_append_only BEFORE UPDATE OR DELETE ON consents_consentdocument
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER consents_consentsignature_append_only BEFORE UPDATE OR DELETE ON consents_consentsignature
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
    ],
}

BACKWARDS = {
    "sqlite": [
        """DROP TRIGGER IF EXISTS consents_consentdocument_append_only_update""",
        """DROP TRIGGER IF EXISTS consents_consentdocument_append_only_delete""",
        """DROP TRIGGER IF EXISTS consents_consentsignature_append_only_update""",
        """DROP TRIGGER IF EXISTS consents_consentsignature_append_only_delete""",
    ],
    "postgresql": [
        """DROP TRIGGER IF EXISTS consents_consentdocument_append_only ON consents_consentdocument""",
        """DROP TRIGGER IF EXISTS consents_consentsignature_append_only ON consents_consentsignature""",
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

    dependencies = [('consents', '0001_initial')]
    operations = [migrations.RunPython(_run(FORWARDS), _run(BACKWARDS))]
