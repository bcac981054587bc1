"""Building blocks for the scheduling tests (and the URL walker's sample run)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def sample_run():  # type: ignore[no-untyped-def]
    """A finished run that booked nobody (for pages that show a run)."""
    from kapstone.accounts.models import StaffUser
    from kapstone.timetable.models import RunStatus, SolveRun

    found = SolveRun.objects.filter(status=RunStatus.DONE).first()
    if found is not None:
        return found
    return SolveRun.objects.create(
        starts_on=timezone.localdate() + dt.timedelta(days=7),
        weeks=1,
        time_limit_s=2,
        created_by=StaffUser.objects.order_by("pk").first(),
        created_at=timezone.now(),
        status=RunStatus.DONE,
        finished_at=timezone.now(),
        solver_status="optimal",
        objective=0,
        bound=0,
        gap=0,
        solve_seconds=0,
    )
