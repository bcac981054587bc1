"""Readings from the bedside monitor: a reading's source, device and message, the artifact policy's
verdict, the nurse's verification of monitor readings, and each room's monitor heartbeat.

``recorded_by`` becomes nullable (a monitor reading has no recorder; a check constraint keeps it
required for typed ones). On SQLite, making a column nullable and adding a constraint rebuild the
table, which drops its triggers: the guards of ``chairside_vitalreading`` (append-only, locked after
signing) are created again at the end, in the same text as 0002_guards. On PostgreSQL the columns
are altered in place and the triggers stay; re-creating them there is harmless (OR REPLACE). The
SQL is written out here so later code cannot change what this migration did.
"""

import django.db.models.deletion
from django.conf import settings
from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

SQLITE_CREATE = [
    """CREATE TRIGGER IF NOT EXISTS chairside_vitalreading_append_only_update BEFORE UPDATE ON chairside_vitalreading
                BEGIN SELECT RAISE(ABORT, 'chairside_vitalreading is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER IF NOT EXISTS chairside_vitalreading_append_only_delete BEFORE DELETE ON chairside_vitalreading
                BEGIN SELECT RAISE(ABORT, 'chairside_vitalreading is append-only: DELETE refused'); END""",
    """CREATE TRIGGER IF NOT EXISTS chairside_vitalreading_locked BEFORE INSERT ON chairside_vitalreading
                WHEN (SELECT signed_at FROM chairside_chairsiderecord WHERE id = NEW.record_id) IS NOT NULL
                BEGIN SELECT RAISE(ABORT, 'chairside_vitalreading: the record is signed; add an addendum'); END""",
    """CREATE TRIGGER IF NOT EXISTS chairside_vitalverification_append_only_update BEFORE UPDATE ON chairside_vitalverification
                BEGIN SELECT RAISE(ABORT, 'chairside_vitalverification is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER IF NOT EXISTS chairside_vitalverification_append_only_delete BEFORE DELETE ON chairside_vitalverification
                BEGIN SELECT RAISE(ABORT, 'chairside_vitalverification is append-only: DELETE refused'); END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS chairside_vitalverification_append_only_update",
    "DROP TRIGGER IF EXISTS chairside_vitalverification_append_only_delete",
]
# kapstone_append_only() and chairside_locked_after_signing() exist since 0002_guards.
POSTGRES_CREATE = [
    """CREATE OR REPLACE TRIGGER chairside_vitalverification_append_only
       BEFORE UPDATE OR DELETE ON chairside_vitalverification
       FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS chairside_vitalverification_append_only ON chairside_vitalverification"
]


def _run(schema_editor: BaseDatabaseSchemaEditor, *, create: bool) -> None:
    sqlite = schema_editor.connection.vendor == "sqlite"
    if create:
        statements = SQLITE_CREATE if sqlite else POSTGRES_CREATE
    else:
        statements = SQLITE_DROP if sqlite else POSTGRES_DROP
    with schema_editor.connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def forwards(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _run(schema_editor, create=True)


def backwards(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _run(schema_editor, create=False)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_staffuser_must_change_password'),
        ('chairside', '0004_dose_change_decision_append_only'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='MonitorFeedHeartbeat',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('device_label', models.CharField(max_length=80)),
                ('last_message_at', models.DateTimeField()),
            ],
        ),
        migrations.CreateModel(
            name='VitalVerification',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField()),
            ],
            options={
                'abstract': False,
            },
        ),
        migrations.AddField(
            model_name='vitalreading',
            name='device_label',
            field=models.CharField(blank=True, db_default='', default='', max_length=80),
        ),
        migrations.AddField(
            model_name='vitalreading',
            name='device_message_id',
            field=models.CharField(blank=True, db_default='', default='', max_length=80),
        ),
        migrations.AddField(
            model_name='vitalreading',
            name='device_note',
            field=models.CharField(blank=True, db_default='', default='', max_length=400),
        ),
        migrations.AddField(
            model_name='vitalreading',
            name='device_policy_version',
            field=models.CharField(blank=True, db_default='', default='', max_length=40),
        ),
        migrations.AddField(
            model_name='vitalreading',
            name='device_verdict',
            field=models.CharField(blank=True, db_default='', default='', choices=[('accepted', 'Accepted'), ('held', 'Awaiting confirmation'), ('confirmed', 'Confirms the reading before')], max_length=12),
        ),
        migrations.AddField(
            model_name='vitalreading',
            name='source',
            field=models.CharField(choices=[('typed', 'Typed by the nurse'), ('device', 'From the bedside monitor')], db_default='typed', default='typed', max_length=8),
        ),
        migrations.AlterField(
            model_name='vitalreading',
            name='recorded_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddConstraint(
            model_name='vitalreading',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('device_label', ''), ('device_message_id', ''), ('device_verdict', ''), ('recorded_by__isnull', False), ('source', 'typed')), models.Q(('recorded_by__isnull', True), ('source', 'device'), models.Q(('device_label', ''), _negated=True), models.Q(('device_message_id', ''), _negated=True), models.Q(('device_verdict', ''), _negated=True)), _connector='OR'), name='vital_typed_has_recorder_device_has_message'),
        ),
        migrations.AddConstraint(
            model_name='vitalreading',
            constraint=models.UniqueConstraint(condition=models.Q(('source', 'device')), fields=('device_label', 'device_message_id'), name='vital_one_reading_per_device_message'),
        ),
        migrations.AddField(
            model_name='monitorfeedheartbeat',
            name='room',
            field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.room'),
        ),
        migrations.AddField(
            model_name='vitalverification',
            name='by',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='vitalverification',
            name='reading',
            field=models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='verification', to='chairside.vitalreading'),
        ),
        migrations.RunPython(forwards, backwards),
    ]
