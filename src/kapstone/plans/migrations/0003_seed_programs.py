"""Seeds the clinic's default program templates (kapstone.clinical.programs.DEFAULT_TEMPLATES).

Runs the same idempotent seeding as `kapstone ensure_programs`, with the historical model; no
audit row is written here (the audit trail is written by the running application).
"""

from django.db import migrations
from django.utils import timezone


def seed(apps, schema_editor):
    from kapstone.plans.programs import seed_missing

    seed_missing(apps.get_model("plans", "ProgramTemplateVersion"), now=timezone.now())


class Migration(migrations.Migration):
    dependencies = [("plans", "0002_append_only")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
