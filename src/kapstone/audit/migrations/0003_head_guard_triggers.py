"""Guards the audit chain's head row like the entries, and refuses TRUNCATE of both audit tables.

The SQL is written out here rather than imported: a migration must keep doing what it did when it was
written, whatever the live code (``kapstone.audit.triggers``, which keeps a copy for the test suite)
becomes later. The head may only move one step forward, to an entry that already exists with that seq
and hash and links to the old head; ``trail.record`` inserts the entry first and then moves the head,
in one transaction, so the condition holds at that moment.
"""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

SQLITE_CREATE = [
    """CREATE TRIGGER IF NOT EXISTS audit_head_no_delete BEFORE DELETE ON audit_audithead
        BEGIN SELECT RAISE(ABORT, 'the audit chain head cannot be deleted: DELETE refused'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_head_advance_only BEFORE UPDATE ON audit_audithead
        WHEN NOT (
          NEW.id = OLD.id
          AND NEW.last_seq = OLD.last_seq + 1
          AND EXISTS (
            SELECT 1 FROM audit_auditentry AS e
            WHERE e.seq = NEW.last_seq AND e.hash = NEW.last_hash AND e.prev_hash = OLD.last_hash
          )
        )
        BEGIN
          SELECT RAISE(ABORT, 'the audit chain head only advances by one, to a new entry: UPDATE refused');
        END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS audit_head_no_delete",
    "DROP TRIGGER IF EXISTS audit_head_advance_only",
]

POSTGRES_CREATE = [
    """CREATE OR REPLACE FUNCTION kapstone_audit_head_guard() RETURNS trigger AS $$
       BEGIN
         IF TG_OP = 'TRUNCATE' THEN
           RAISE EXCEPTION 'the audit trail is append-only: TRUNCATE of % refused', TG_TABLE_NAME
             USING ERRCODE = 'insufficient_privilege';
         END IF;
         IF TG_OP = 'DELETE' THEN
           RAISE EXCEPTION 'the audit chain head cannot be deleted: DELETE refused'
             USING ERRCODE = 'insufficient_privilege';
         END IF;
         IF NEW.id IS DISTINCT FROM OLD.id
            OR NEW.last_seq IS DISTINCT FROM OLD.last_seq + 1
            OR NOT EXISTS (
              SELECT 1 FROM audit_auditentry AS e
              WHERE e.seq = NEW.last_seq AND e.hash = NEW.last_hash AND e.prev_hash = OLD.last_hash
            ) THEN
           RAISE EXCEPTION 'the audit chain head only advances by one, to a new entry: UPDATE refused'
             USING ERRCODE = 'insufficient_privilege';
         END IF;
         RETURN NEW;
       END $$ LANGUAGE plpgsql""",
    """CREATE OR REPLACE TRIGGER audit_head_guard BEFORE UPDATE OR DELETE ON audit_audithead
        FOR EACH ROW EXECUTE FUNCTION kapstone_audit_head_guard()""",
    """CREATE OR REPLACE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_audithead
        FOR EACH STATEMENT EXECUTE FUNCTION kapstone_audit_head_guard()""",
    """CREATE OR REPLACE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_auditentry
        FOR EACH STATEMENT EXECUTE FUNCTION kapstone_audit_head_guard()""",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS audit_head_guard ON audit_audithead",
    "DROP TRIGGER IF EXISTS audit_head_no_truncate ON audit_audithead",
    "DROP TRIGGER IF EXISTS audit_entry_no_truncate ON audit_auditentry",
    "DROP FUNCTION IF EXISTS kapstone_audit_head_guard()",
]


def _run(schema_editor: BaseDatabaseSchemaEditor, statements: dict[str, list[str]]) -> None:
    with schema_editor.connection.cursor() as cursor:
        for sql in statements[schema_editor.connection.vendor]:
            cursor.execute(sql)


def install(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _run(schema_editor, {"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE})


def remove(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _run(schema_editor, {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP})


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_triggers")]
    operations = [migrations.RunPython(install, remove)]
