"""Background work for the safety pathway, for the task worker (`kapstone db_worker`)."""

from __future__ import annotations

from django.tasks import task

from kapstone.safety.services import escalate_overdue_alerts


@task()
def escalate_alerts() -> int:
    """Escalates every open alert that has waited its policy's time; returns how many."""
    return len(escalate_overdue_alerts())
