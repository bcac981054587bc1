"""Background work for the cohort dashboard, for the task worker (`kapstone db_worker`)."""

from __future__ import annotations

from django.tasks import task
from django.utils import timezone

from kapstone.cohorts.summaries import bring_up_to_date


@task()
def refresh_course_summaries(instrument: str) -> dict[str, object]:
    """Brings one instrument's course summaries up to date (a rebuild on a large network takes a
    minute, too long for a page); returns what it did (counts only)."""
    refresh = bring_up_to_date(instrument=instrument, now=timezone.now())
    return {"instrument": instrument, "rebuilt": refresh.rebuilt, "patients": refresh.patients}
