"""Background work for scheduling, for the task worker (`kapstone db_worker`)."""

from __future__ import annotations

from django.tasks import task

from kapstone.timetable.services import run_solve


@task()
def solve_schedule(run_id: int) -> str:
    """Solves one queued run; returns its final status."""
    return run_solve(run_id=run_id).status
