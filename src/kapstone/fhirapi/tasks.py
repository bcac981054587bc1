"""Background work of the FHIR API, for the task worker (``kapstone db_worker``)."""

from __future__ import annotations

from django.tasks import task
from django.utils import timezone

from kapstone.fhirapi.bulk import expire_exports, run_export


@task()
def run_bulk_export(job_id: str) -> dict[str, object]:
    """Runs one $export job; returns its state and counts (no patient data)."""
    job = run_export(job_id, now=timezone.now())
    expire_exports(now=timezone.now())
    if job is None:
        return {"state": "not run"}
    return {"state": job.state, "output": job.output}
