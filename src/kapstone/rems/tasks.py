"""Background work for REMS forms, for the task worker (`kapstone db_worker`)."""

from __future__ import annotations

from django.tasks import task
from django.utils import timezone

from kapstone.rems.services import prepare_missing_forms


@task()
def prepare_rems_forms() -> int:
    """Prepares the form of every signed esketamine session that has none; returns how many."""
    return len(prepare_missing_forms(by=None, now=timezone.now()))
