from django.db import migrations

from kapstone.audit.triggers import append_only


class Migration(migrations.Migration):
    dependencies = [("measures", "0001_initial")]
    operations = [append_only("measures_measurementcareplan", "measures_measurereminder")]
