"""Background work for notifications, for the task worker (`kapstone db_worker`)."""

from __future__ import annotations

from django.tasks import task
from django.utils import timezone

from kapstone.notify.reminders import send_reminders
from kapstone.notify.services import deliver, send_due


@task()
def deliver_notification(note_id: int) -> str:
    """Sends one notification when due; returns its status."""
    return str(deliver(note_id=note_id).status)


@task()
def send_due_notifications() -> int:
    """Sends every notification now due; returns how many were tried."""
    return sum(send_due(now=timezone.now()).values())


@task()
def send_due_reminders() -> int:
    """Sends the reminders now due; returns how many."""
    return send_reminders(now=timezone.now()).total
