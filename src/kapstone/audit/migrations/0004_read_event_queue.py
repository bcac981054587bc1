"""The read-event queue: readers append read events here without waiting for the chain's lock, and
whoever holds the lock next chains them (kapstone.audit.trail.record). Each chained entry names the
event it came from (``queued_id``, outside the hash: existing hashes are unchanged).

The queue's guard is written out here rather than imported (see 0003): rows are never updated or
truncated, and a row may be deleted only once a chain entry names it.
"""

import django.db.models.deletion
from django.apps.registry import Apps
from django.conf import settings
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

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
    "DROP FUNCTION IF EXISTS kapstone_audit_queue_guard()",
]


def _run(schema_editor: BaseDatabaseSchemaEditor, statements: dict[str, list[str]]) -> None:
    with schema_editor.connection.cursor() as cursor:
        for sql in statements[schema_editor.connection.vendor]:
            cursor.execute(sql)


def install(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _run(schema_editor, {"sqlite": SQLITE_QUEUE_CREATE, "postgresql": POSTGRES_QUEUE_CREATE})


def remove(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _run(schema_editor, {"sqlite": SQLITE_QUEUE_DROP, "postgresql": POSTGRES_QUEUE_DROP})


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_head_guard_triggers"),
        ("patients", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="auditentry",
            name="queued_id",
            field=models.PositiveBigIntegerField(blank=True, db_index=True, null=True),
        ),
        migrations.CreateModel(
            name="QueuedAuditEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("at", models.DateTimeField()),
                ("actor_label", models.CharField(max_length=150)),
                ("action", models.CharField(max_length=80)),
                ("object_type", models.CharField(blank=True, max_length=80)),
                ("object_id", models.CharField(blank=True, max_length=64)),
                ("request_id", models.CharField(blank=True, max_length=64)),
                ("summary", models.CharField(blank=True, max_length=300)),
                ("actor", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL)),
                ("patient", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="patients.patient")),
            ],
            options={"ordering": ["id"]},
        ),
        migrations.RunPython(install, remove),
    ]
