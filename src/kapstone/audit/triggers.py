"""Database triggers that make the audit table append-only on SQLite and PostgreSQL."""

from __future__ import annotations

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

# Which tables are append-only is read from the models (every concrete AppendOnly's table), not kept
# here by hand; named here too for the test suite, which reinstalls their guards.
from kapstone.kernel.append_only import append_only_tables as append_only_tables

TABLE = "audit_auditentry"

SQLITE_CREATE = [
    f"""CREATE TRIGGER IF NOT EXISTS audit_entry_no_update BEFORE UPDATE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: UPDATE refused'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS audit_entry_no_delete BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: DELETE refused'); END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS audit_entry_no_update",
    "DROP TRIGGER IF EXISTS audit_entry_no_delete",
]

POSTGRES_CREATE = [
    """CREATE OR REPLACE FUNCTION kapstone_audit_append_only() RETURNS trigger AS $$
       BEGIN
         RAISE EXCEPTION 'the audit trail is append-only: % refused', TG_OP
           USING ERRCODE = 'insufficient_privilege';
       END $$ LANGUAGE plpgsql""",
    f"""CREATE OR REPLACE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION kapstone_audit_append_only()""",
]
POSTGRES_DROP = [f"DROP TRIGGER IF EXISTS audit_entry_append_only ON {TABLE}"]


def statements(vendor: str, *, create: bool) -> list[str]:
    if vendor == "sqlite":
        return SQLITE_CREATE if create else SQLITE_DROP
    if vendor == "postgresql":
        return POSTGRES_CREATE if create else POSTGRES_DROP
    raise NotImplementedError(f"no append-only triggers written for {vendor}")


def install(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for sql in statements(connection.vendor, create=True):
            cursor.execute(sql)


def remove(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for sql in statements(connection.vendor, create=False):
            cursor.execute(sql)


# The head row (the chain's tip) is guarded too: without this, deleting the newest entries and moving
# the head back would leave a shorter chain that is consistent with itself. The only change allowed is
# the one ``trail.record`` makes right after inserting an entry in the same transaction: one step forward
# to an entry that exists with that seq and hash and links to the old tip. PostgreSQL's TRUNCATE skips
# row triggers, so both audit tables refuse it by a statement trigger. Migration 0003 carries its own
# copy of this SQL (migrations never import live code); keep the two the same.
SQLITE_HEAD_CREATE = [
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
SQLITE_HEAD_DROP = [
    "DROP TRIGGER IF EXISTS audit_head_no_delete",
    "DROP TRIGGER IF EXISTS audit_head_advance_only",
]

POSTGRES_HEAD_CREATE = [
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
POSTGRES_HEAD_DROP = [
    "DROP TRIGGER IF EXISTS audit_head_guard ON audit_audithead",
    "DROP TRIGGER IF EXISTS audit_head_no_truncate ON audit_audithead",
    "DROP TRIGGER IF EXISTS audit_entry_no_truncate ON audit_auditentry",
]


# The read-event queue (models.QueuedAuditEvent): rows are never changed, and leave only into the
# chain: a DELETE is refused unless an entry already names the row (queued_id), which the chaining
# writes in the same transaction. Migration 0004 carries its own copy of this SQL.
SQLITE_QUEUE_CREATE = [
    """CREATE TRIGGER IF NOT EXISTS audit_queue_no_update BEFORE UPDATE ON audit_queuedauditevent
        BEGIN SELECT RAISE(ABORT, 'queued audit events are append-only: UPDATE refused'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_queue_only_into_chain BEFORE DELETE ON audit_queuedauditevent
        WHEN NOT EXISTS (SELECT 1 FROM audit_auditentry AS e WHERE e.queued_id = OLD.id)
        BEGIN
          SELECT RAISE(ABORT, 'a queued audit event leaves the queue only into the chain: DELETE refused');
        END""",
]
SQLITE_QUEUE_DROP = [
    "DROP TRIGGER IF EXISTS audit_queue_no_update",
    "DROP TRIGGER IF EXISTS audit_queue_only_into_chain",
]
POSTGRES_QUEUE_CREATE = [
    """CREATE OR REPLACE FUNCTION kapstone_audit_queue_guard() RETURNS trigger AS $$
       BEGIN
         IF TG_OP = 'TRUNCATE' THEN
           RAISE EXCEPTION 'the audit trail is append-only: TRUNCATE of % refused', TG_TABLE_NAME
             USING ERRCODE = 'insufficient_privilege';
         END IF;
         IF TG_OP = 'UPDATE' THEN
           RAISE EXCEPTION 'queued audit events are append-only: UPDATE refused'
             USING ERRCODE = 'insufficient_privilege';
         END IF;
         IF NOT EXISTS (SELECT 1 FROM audit_auditentry AS e WHERE e.queued_id = OLD.id) THEN
           RAISE EXCEPTION 'a queued audit event leaves the queue only into the chain: DELETE refused'
             USING ERRCODE = 'insufficient_privilege';
         END IF;
         RETURN OLD;
       END $$ LANGUAGE plpgsql""",
    """CREATE OR REPLACE TRIGGER audit_queue_guard BEFORE UPDATE OR DELETE ON audit_queuedauditevent
        FOR EACH ROW EXECUTE FUNCTION kapstone_audit_queue_guard()""",
    """CREATE OR REPLACE TRIGGER audit_queue_no_truncate BEFORE TRUNCATE ON audit_queuedauditevent
        FOR EACH STATEMENT EXECUTE FUNCTION kapstone_audit_queue_guard()""",
]
POSTGRES_QUEUE_DROP = [
    "DROP TRIGGER IF EXISTS audit_queue_guard ON audit_queuedauditevent",
    "DROP TRIGGER IF EXISTS audit_queue_no_truncate ON audit_queuedauditevent",
]


def head_statements(vendor: str, *, create: bool) -> list[str]:
    """The head's guard and the read-event queue's (the queue feeds the head)."""
    if vendor == "sqlite":
        if create:
            return SQLITE_HEAD_CREATE + SQLITE_QUEUE_CREATE
        return SQLITE_HEAD_DROP + SQLITE_QUEUE_DROP
    if vendor == "postgresql":
        if create:
            return POSTGRES_HEAD_CREATE + POSTGRES_QUEUE_CREATE
        return POSTGRES_HEAD_DROP + POSTGRES_QUEUE_DROP
    raise NotImplementedError(f"no audit head triggers written for {vendor}")


def install_head(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for sql in head_statements(connection.vendor, create=True):
            cursor.execute(sql)


def remove_head(connection: BaseDatabaseWrapper) -> None:
    """Lifts the head's guard (tests that play someone with database access; a flush)."""
    with connection.cursor() as cursor:
        for sql in head_statements(connection.vendor, create=False):
            cursor.execute(sql)


# Other append-only clinical tables (signed records, alerts, ledgers: append_only_tables()) get the
# same guard by name: each app's migration writes out the SQL below for its tables, and the test suite
# puts every guard back after a transactional test's flush.
def _table_statements(vendor: str, table: str, *, create: bool) -> list[str]:
    name = f"{table}_append_only"
    if vendor == "sqlite":
        if not create:
            return [
                f"DROP TRIGGER IF EXISTS {name}_update",
                f"DROP TRIGGER IF EXISTS {name}_delete",
            ]
        return [
            f"""CREATE TRIGGER IF NOT EXISTS {name}_{op.lower()} BEFORE {op} ON {table}
                BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op} refused'); END"""
            for op in ("UPDATE", "DELETE")
        ]
    if vendor == "postgresql":
        if not create:
            return [f"DROP TRIGGER IF EXISTS {name} ON {table}"]
        return [
            """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
            f"""CREATE OR REPLACE TRIGGER {name} BEFORE UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        ]
    raise NotImplementedError(f"no append-only triggers written for {vendor}")


def append_only(*tables: str) -> migrations.RunPython:
    """A migration operation that makes the tables refuse UPDATE and DELETE."""

    def forwards(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        with schema_editor.connection.cursor() as cursor:
            for table in tables:
                for sql in _table_statements(schema_editor.connection.vendor, table, create=True):
                    cursor.execute(sql)

    def backwards(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        with schema_editor.connection.cursor() as cursor:
            for table in tables:
                for sql in _table_statements(schema_editor.connection.vendor, table, create=False):
                    cursor.execute(sql)

    return migrations.RunPython(forwards, backwards)


def install_all(connection: BaseDatabaseWrapper) -> None:
    """The audit guards (entries and head) and every append-only table's (all migrated by now)."""
    install(connection)
    install_head(connection)
    with connection.cursor() as cursor:
        for table in append_only_tables():
            for sql in _table_statements(connection.vendor, table, create=True):
                cursor.execute(sql)


def remove_all(connection: BaseDatabaseWrapper) -> None:
    remove(connection)
    remove_head(connection)
    with connection.cursor() as cursor:
        for table in append_only_tables():
            for sql in _table_statements(connection.vendor, table, create=False):
                cursor.execute(sql)


def remove_guard(connection: BaseDatabaseWrapper, table: str) -> None:
    """Lifts one table's guard (tests that simulate a database restored without its rows)."""
    with connection.cursor() as cursor:
        for sql in _table_statements(connection.vendor, table, create=False):
            cursor.execute(sql)
