"""Background work for research exports, for the task worker (`kapstone db_worker`)."""

from __future__ import annotations

from django.tasks import task
from django.utils import timezone

from kapstone.research.services import expire_exports, run_export


@task()
def run_research_export(export_id: int) -> dict[str, object]:
    """Builds one requested export; returns its status and row counts (no patient data)."""
    export = run_export(export_id=export_id, now=timezone.now())
    expire_exports(now=timezone.now())
    return {"status": export.status, "counts": export.counts}
