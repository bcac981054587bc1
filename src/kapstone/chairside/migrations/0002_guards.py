from django.db import migrations

from kapstone.audit.triggers import APPEND_ONLY_TABLES, append_only
from kapstone.chairside import triggers

WRITE_ONCE = {
    "ChairsideRecord": ["discharged_at", "signed_at", "signed_by_id"],
    "DoseAdministration": ["stopped_at"],
}


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    with schema_editor.connection.cursor() as cursor:
        for name, once in WRITE_ONCE.items():
            model = apps.get_model("chairside", name)
            columns = [f.column for f in model._meta.concrete_fields]
            for sql in triggers.write_once(vendor, model._meta.db_table, columns, once):
                cursor.execute(sql)
        for table in triggers.LOCKED_AFTER_SIGNING:
            for sql in triggers.locked_after_signing(vendor, table):
                cursor.execute(sql)


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    with schema_editor.connection.cursor() as cursor:
        for name in WRITE_ONCE:
            table = apps.get_model("chairside", name)._meta.db_table
            for sql in triggers.drop(vendor, table, "write_once"):
                cursor.execute(sql)
        for table in triggers.LOCKED_AFTER_SIGNING:
            for sql in triggers.drop(vendor, table, "locked"):
                cursor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("chairside", "0001_initial")]
    operations = [
        append_only(*(t for t in APPEND_ONLY_TABLES if t.startswith("chairside_"))),
        migrations.RunPython(forwards, backwards),
    ]
