from django.db import migrations

from kapstone.audit.triggers import append_only


class Migration(migrations.Migration):
    dependencies = [("intake", "0001_initial")]
    operations = [
        append_only(
            "intake_intakeversion",
            "intake_eligibilityreview",
            "intake_eligibilitysignature",
            "intake_findingoverride",
            "intake_eligibilitycosignature",
        )
    ]
