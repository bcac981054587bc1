"""Background work for the measurement schedule, for the task worker (`kapstone db_worker`)."""

from __future__ import annotations

from django.tasks import task
from django.utils import timezone

from kapstone.measures.services import send_due_reminders


@task()
def send_measure_reminders() -> dict[str, int]:
    """E-mails each patient one link for the questionnaires now due; returns the run's counts."""
    return send_due_reminders(now=timezone.now()).as_dict()
