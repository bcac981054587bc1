"""Bulk Data ``$export``: the job the task worker runs, writing one NDJSON file per resource type.

Each type's resources come from the registry (``KINDS[type].export``), which reads in keyset-paged
batches; each is written to its file as it comes, so memory stays flat however large the clinic.
Files are written as ``<Type>.ndjson.part`` and renamed when the type is done; a job's folder is
``settings.FHIR_EXPORT_DIR/<job id>``. Every batch the job looks whether it was cancelled (then it
stops and removes its folder) and records its progress for the status URL's ``X-Progress``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
from collections.abc import Collection
from pathlib import Path

from django.conf import settings
from django.db import transaction

from kapstone.audit.trail import record as audit
from kapstone.fhirapi.models import BulkExport, ExportLevel, ExportState
from kapstone.fhirapi.registry import KINDS, group_patient_ids

logger = logging.getLogger(__name__)

# Progress is saved (and cancellation looked for) every this many resources.
CHECK_EVERY = 2000

# One encoder for every line (json.dumps with options builds a new one each call).
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def export_root() -> Path:
    return Path(settings.FHIR_EXPORT_DIR)


def job_dir(job: BulkExport) -> Path:
    return export_root() / str(job.pk)


def remove_files(job: BulkExport) -> None:
    shutil.rmtree(job_dir(job), ignore_errors=True)


class _Cancelled(Exception):
    pass


def _save_progress(job: BulkExport, progress: int, step: str) -> None:
    """Records progress unless the job was cancelled meanwhile (then raises _Cancelled)."""
    updated = BulkExport.objects.filter(pk=job.pk, state=ExportState.RUNNING).update(
        progress=min(progress, 99), step=step[:80]
    )
    if not updated:
        raise _Cancelled


def _start(job_id: str, now: dt.datetime) -> BulkExport | None:
    with transaction.atomic():
        job = BulkExport.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.state != ExportState.QUEUED:
            return None  # cancelled before it started, or already run
        job.state = ExportState.RUNNING
        job.transaction_time = now
        job.step = "Starting"
        job.save(update_fields=["state", "transaction_time", "step"])
    return job


def _patient_ids(job: BulkExport) -> Collection[int] | None:
    if job.level == ExportLevel.GROUP:
        return group_patient_ids(job.group_id)
    return None  # system: everything; patient: every patient (the kinds are compartment kinds)


def write_type(
    job: BulkExport,
    resource_type: str,
    *,
    patient_ids: Collection[int] | None,
    done_before: int,
    total_types: int,
) -> int:
    """Writes one type's NDJSON file; returns how many resources it holds."""
    folder = job_dir(job)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{resource_type}.ndjson"
    partial = folder / f"{resource_type}.ndjson.part"
    count = 0
    with partial.open("w", encoding="utf-8", newline="\n") as out:
        for resource in KINDS[resource_type].export(patient_ids=patient_ids, since=job.since):
            out.write(_encode(resource))
            out.write("\n")
            count += 1
            if count % CHECK_EVERY == 0:
                _save_progress(
                    job,
                    done_before * 100 // total_types,
                    f"{resource_type}: {count} written",
                )
    partial.replace(final)
    return count


def run_export(job_id: str, *, now: dt.datetime) -> BulkExport | None:
    """Runs one queued export to its end (complete, failed, or stopped by a cancel)."""
    job = _start(job_id, now)
    if job is None:
        return None
    output: list[dict[str, object]] = []
    try:
        patient_ids = _patient_ids(job)
        for n, resource_type in enumerate(job.types):
            _save_progress(job, n * 100 // len(job.types), f"Writing {resource_type}")
            count = write_type(
                job,
                resource_type,
                patient_ids=patient_ids,
                done_before=n,
                total_types=len(job.types),
            )
            if count:  # the manifest lists only files with resources (Bulk Data IG)
                output.append(
                    {"type": resource_type, "file": f"{resource_type}.ndjson", "count": count}
                )
            else:
                (job_dir(job) / f"{resource_type}.ndjson").unlink(missing_ok=True)
    except _Cancelled:
        remove_files(job)
        return BulkExport.objects.get(pk=job.pk)
    except Exception:
        logger.exception("FHIR $export %s failed", job.pk)
        remove_files(job)
        BulkExport.objects.filter(pk=job.pk, state=ExportState.RUNNING).update(
            state=ExportState.FAILED, error="The export failed; see the server log", progress=0
        )
        return BulkExport.objects.get(pk=job.pk)
    return _finish(job, output, patient_ids, now=now)


def _finish(
    job: BulkExport,
    output: list[dict[str, object]],
    patient_ids: Collection[int] | None,
    *,
    now: dt.datetime,
) -> BulkExport:
    from django.utils import timezone

    with transaction.atomic():
        locked = BulkExport.objects.select_for_update().get(pk=job.pk)
        if locked.state != ExportState.RUNNING:  # cancelled at the last moment
            remove_files(locked)
            return locked
        locked.state = ExportState.COMPLETE
        locked.output = output
        locked.progress = 100
        locked.step = "Done"
        locked.completed_at = timezone.now()
        locked.save(update_fields=["state", "output", "progress", "step", "completed_at"])
        audit(
            actor=None,
            action="fhir.export_completed",
            obj=locked,
            summary=(
                f"FHIR $export ({locked.level}) for API client {locked.client.client_id} "
                f"({locked.client.name}) written: "
                + ", ".join(f"{o['type']} {o['count']}" for o in output)
            ),
            after={
                "client_id": locked.client.client_id,
                "client": locked.client.name,
                "level": locked.level,
                "group": locked.group_id,
                "since": locked.since.isoformat() if locked.since else None,
                "transaction_time": now.isoformat(),
                "counts": {str(o["type"]): o["count"] for o in output},
                # A group is a defined set of patients: name them. System and Patient level
                # exports cover every patient (as of transaction_time).
                "patient_ids": sorted(patient_ids) if patient_ids is not None else "all",
            },
        )
    return locked


def expire_exports(*, now: dt.datetime) -> int:
    """Removes the files of finished exports older than FHIR_EXPORT_HOURS; returns how many."""
    horizon = now - dt.timedelta(hours=settings.FHIR_EXPORT_HOURS)
    expired = 0
    for job in BulkExport.objects.filter(state=ExportState.COMPLETE, completed_at__lt=horizon):
        remove_files(job)
        BulkExport.objects.filter(pk=job.pk, state=ExportState.COMPLETE).update(
            state=ExportState.EXPIRED, output=[]
        )
        expired += 1
    return expired
