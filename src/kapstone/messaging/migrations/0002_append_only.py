"""Makes the secure messages append-only: messaging_message, messaging_readreceipt, messaging_thread, messaging_urgentmessagealert.

The SQL is written out here rather than imported: a migration must go on building the database it
built when it was written, whatever the application code (kapstone.audit.triggers) becomes later.
"""

from collections.abc import Callable

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

FORWARDS = {
    "sqlite": [
        """CREATE TRIGGER IF NOT EXISTS messaging_message_append_only_update BEFORE UPDATE ON messaging_message
                BEGIN SELECT RAISE(ABORT, 'messaging_message is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS messaging_message_append_only_delete BEFORE DELETE ON messaging_message
                BEGIN SELECT RAISE(ABORT, 'messaging_message is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS messaging_readreceipt_append_only_update BEFORE UPDATE ON messaging_readreceipt
                BEGIN SELECT RAISE(ABORT, 'messaging_readreceipt is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS messaging_readreceipt_append_only_delete BEFORE DELETE ON messaging_readreceipt
                BEGIN SELECT RAISE(ABORT, 'messaging_readreceipt is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS messaging_thread_append_only_update BEFORE UPDATE ON messaging_thread
                BEGIN SELECT RAISE(ABORT, 'messaging_thread is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS messaging_thread_append_only_delete BEFORE DELETE ON messaging_thread
                BEGIN SELECT RAISE(ABORT, 'messaging_thread is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS messaging_urgentmessagealert_append_only_update BEFORE UPDATE ON messaging_urgentmessagealert
                BEGIN SELECT RAISE(ABORT, 'messaging_urgentmessagealert is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS messaging_urgentmessagealert_append_only_delete BEFORE DELETE ON messaging_urgentmessagealert
                BEGIN SELECT RAISE(ABORT, 'messaging_urgentmessagealert is append-only: DELETE refused'); END""",
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER messaging_message_append_only BEFORE UPDATE OR DELETE ON messaging_message
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE TRIGGER messaging_readreceipt_append_only BEFORE UPDATE OR DELETE ON messaging_readreceipt
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE TRIGGER messaging_thread_append_only BEFORE UPDATE OR DELETE ON messaging_thread
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE TRIGGER messaging_urgentmessagealert_append_only BEFORE UPDATE OR DELETE ON messaging_urgentmessagealert
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
    ],
}

BACKWARDS = {
    "sqlite": [
        """DROP TRIGGER IF EXISTS messaging_message_append_only_update""",
        """DROP TRIGGER IF EXISTS messaging_message_append_only_delete""",
        """DROP TRIGGER IF EXISTS messaging_readreceipt_append_only_update""",
        """DROP TRIGGER IF EXISTS messaging_readreceipt_append_only_delete""",
        """DROP TRIGGER IF EXISTS messaging_thread_append_only_update""",
        """DROP TRIGGER IF EXISTS messaging_thread_append_only_delete""",
        """DROP TRIGGER IF EXISTS messaging_urgentmessagealert_append_only_update""",
        """DROP TRIGGER IF EXISTS messaging_urgentmessagealert_append_only_delete""",
    ],
    "postgresql": [
        """DROP TRIGGER IF EXISTS messaging_message_append_only ON messaging_message""",
        """DROP TRIGGER IF EXISTS messaging_readreceipt_append_only ON messaging_readreceipt""",
        """DROP TRIGGER IF EXISTS messaging_thread_append_only ON messaging_thread""",
        """DROP TRIGGER IF EXISTS messaging_urgentmessagealert_append_only ON messaging_urgentmessagealert""",
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
    dependencies = [("messaging", "0001_initial")]
    operations = [migrations.RunPython(_run(FORWARDS), _run(BACKWARDS))]
