from django.db import migrations

from kapstone.audit.triggers import APPEND_ONLY_TABLES, append_only


class Migration(migrations.Migration):
    dependencies = [("integration", "0002_notes")]
    operations = [append_only(*(t for t in APPEND_ONLY_TABLES if t.startswith("integration_")))]
