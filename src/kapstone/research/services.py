"""Requesting, running, downloading and expiring de-identified research exports.

Each step is audited: the request (with its parameters), the completion (counts, k, sha256), a
failure, the one download, and expiry. Audit rows name no patient: the export is about many, and
holds none by name.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from kapstone.accounts.models import Site, StaffUser
from kapstone.audit.trail import record
from kapstone.clinical.access import Permission, may
from kapstone.errors import InputError
from kapstone.interop.deidentify import (
    DEFAULT_POLICY,
    TABLES,
    Dataset,
    ExportPlan,
    KReport,
    build_slice,
    plan_export,
)
from kapstone.outcomes.selectors import OUTCOME_POLICY
from kapstone.plans.models import ProgramTemplateVersion
from kapstone.research import selectors
from kapstone.research.models import ExportStatus, ResearchExport

if TYPE_CHECKING:
    from kapstone.research.files import ExportWriter, Progress

log = logging.getLogger(__name__)

_PARAMETERS = ["period_start", "period_end", "site_ids", "programs", "suppress"]


class ExportRequest(TypedDict):
    """What an export asks for, as :func:`preview_export` and :func:`request_export` take it:
    the period of first contact, the sites and programs (none: all), and whether classes smaller
    than k are left out."""

    period_start: dt.date
    period_end: dt.date
    site_ids: list[int]
    programs: list[str]
    suppress: bool


def export_dir() -> Path:
    return Path(settings.RESEARCH_EXPORT_DIR)


def _parameters(export: ResearchExport) -> dict[str, object]:
    return {name: getattr(export, name) for name in _PARAMETERS}


def _check(
    *,
    by: StaffUser,
    period_start: dt.date,
    period_end: dt.date,
    site_ids: list[int],
    programs: list[str],
    now: dt.datetime,
) -> None:
    errors: dict[str, list[str]] = {}
    if not may(by.staff_role, Permission.RUN_RESEARCH_EXPORT):
        errors[""] = ["Your role may not run research exports."]
    if period_end < period_start:
        errors["period_end"] = ["The period must end on or after its start."]
    if period_start > timezone.localdate(now):
        errors["period_start"] = ["The period starts in the future: there is nothing to export."]
    known_sites = set(Site.objects.filter(pk__in=site_ids).values_list("pk", flat=True))
    if set(site_ids) - known_sites:
        errors["site_ids"] = ["Choose sites from the list."]
    known = set(ProgramTemplateVersion.objects.values_list("key", flat=True))
    if set(programs) - known:
        errors["programs"] = ["Choose programs from the list."]
    if errors:
        raise InputError(errors)


@dataclass(frozen=True, slots=True)
class Preview:
    """What an export asked for now would hold, before it is built: k over the patients, the
    classes below the threshold, and what leaving them out would remove and leave."""

    report: KReport
    suppress: bool

    @property
    def patients(self) -> int:
        return self.report.rows

    @property
    def below(self) -> int:
        """Patients in classes smaller than the threshold."""
        return sum(c.size for c in self.report.below_threshold)

    @property
    def kept_if_left_out(self) -> int:
        return self.report.rows - self.below

    @property
    def k_if_left_out(self) -> int:
        """k of what would remain once the small classes are left out (the report is always
        computed as if they were; whether they are is the requester's choice)."""
        return self.report.k_after if self.report.k_after is not None else self.report.k

    @property
    def exported(self) -> int:
        return self.kept_if_left_out if self.suppress else self.report.rows

    @property
    def k_exported(self) -> int:
        return self.k_if_left_out if self.suppress else self.report.k


def preview_export(
    *,
    by: StaffUser,
    period_start: dt.date,
    period_end: dt.date,
    site_ids: list[int],
    programs: list[str],
    suppress: bool,
    now: dt.datetime,
) -> Preview:
    """k and what would be left out, computed by the same core as the export (on the patients
    only: their events do not change the classes). Aggregates only; audited as a read."""
    _check(
        by=by,
        period_start=period_start,
        period_end=period_end,
        site_ids=site_ids,
        programs=programs,
        now=now,
    )
    patients = selectors.source_patients(
        start=period_start, end=period_end, site_ids=site_ids, programs=programs
    )
    plan = plan_export(
        patients=patients,
        dosing_sites=(),
        zone=timezone.get_current_timezone(),
        # Pseudonyms and site codes are drawn and thrown away: only the counts leave.
        rng=random.Random(0),
        now=now,
        suppress=True,
        policy=DEFAULT_POLICY,
        outcome_policy=OUTCOME_POLICY,
    )
    preview = Preview(plan.report, suppress)
    record(
        actor=by,
        action="research_export.previewed",
        summary=f"Research export previewed: {preview.patients} patients, k = {preview.report.k}",
        after={
            "period_start": period_start,
            "period_end": period_end,
            "site_ids": sorted(site_ids),
            "programs": sorted(programs),
            "suppress": suppress,
        },
    )
    return preview


def request_export(
    *,
    by: StaffUser,
    period_start: dt.date,
    period_end: dt.date,
    site_ids: list[int],
    programs: list[str],
    suppress: bool,
    now: dt.datetime,
) -> ResearchExport:
    """Records the request and queues the task that builds the export (on commit)."""
    _check(
        by=by,
        period_start=period_start,
        period_end=period_end,
        site_ids=site_ids,
        programs=programs,
        now=now,
    )
    with transaction.atomic():
        export = ResearchExport.objects.create(
            requested_by=by,
            requested_at=now,
            period_start=period_start,
            period_end=period_end,
            site_ids=sorted(site_ids),
            programs=sorted(programs),
            suppress=suppress,
            policy_version=DEFAULT_POLICY.version,
        )
        record(
            actor=by,
            action="research_export.requested",
            obj=export,
            summary=f"De-identified research export {export.pk} requested",
            after=_parameters(export),
        )
        from kapstone.research.tasks import run_research_export

        transaction.on_commit(lambda: run_research_export.enqueue(export.pk))
    return export


def _progress(export_id: int, percent: int, step: str) -> None:
    # Written outside the run's work so the page sees it while the export is being built.
    ResearchExport.objects.filter(pk=export_id).update(progress=min(percent, 99), step=step[:80])


def plan(*, export: ResearchExport, now: dt.datetime, rng: random.Random) -> ExportPlan:
    """The dataset-wide pass over the patients asked for (none of their events): pseudonyms,
    site codes, day 0, the k report and who is kept (the core's ``plan_export``)."""
    found = selectors.population(
        start=export.period_start,
        end=export.period_end,
        site_ids=export.site_ids,
        programs=export.programs,
        now=now,
    )
    return plan_export(
        patients=found.patients,
        dosing_sites=found.dosing_sites,
        zone=timezone.get_current_timezone(),
        rng=rng,
        now=now,
        suppress=export.suppress,
        policy=DEFAULT_POLICY,
        outcome_policy=OUTCOME_POLICY,
    )


def slice_dataset(plan: ExportPlan, keys: list[int]) -> Dataset:
    """One slice of the plan's patients, read and de-identified (its tables hold its rows)."""
    found = selectors.events(keys)
    tables = build_slice(
        plan, keys=keys, scores=found.scores, dosing=found.dosing, integration=found.integration
    )
    return Dataset(tables, plan.report, plan.policy, plan.outcome_policy.version)


def _write(plan: ExportPlan, writer: ExportWriter, progress: Progress) -> tuple[int, str]:
    """Reads, de-identifies and writes the patients a slice at a time, in the plan's order, then
    zips; only one slice's rows are held at once."""
    order = plan.order()
    for start in range(0, len(order), selectors.SLICE):
        # The identified rows of the slice are dropped once its de-identified rows are written.
        writer.add(slice_dataset(plan, order[start : start + selectors.SLICE]))
        done = min(start + selectors.SLICE, len(order))
        progress(done * 80 // max(len(order), 1), f"Wrote {done} of {len(order)} patients")
    about = Dataset(TABLES, plan.report, plan.policy, plan.outcome_policy.version)
    return writer.finish(about, lambda p, s: progress(80 + p * 19 // 100, s))


def run_export(
    *, export_id: int, now: dt.datetime, rng: random.Random | None = None
) -> ResearchExport:
    """Builds the export: reads, de-identifies (the core) and writes the zip a slice of patients
    at a time, after one pass over the patients alone; records the result.

    ``rng`` is for tests only; by default pseudonyms come from the operating system's generator.
    """
    claimed = ResearchExport.objects.filter(pk=export_id, status=ExportStatus.QUEUED).update(
        status=ExportStatus.RUNNING, progress=1, step="Reading records"
    )
    export = ResearchExport.objects.get(pk=export_id)
    if not claimed:
        return export  # already run (or running) elsewhere
    try:
        planned = plan(export=export, now=now, rng=rng or random.SystemRandom())
        _progress(export.pk, 10, "De-identifying and writing files")
        # The writer loads here, in the task worker: pyarrow (and the numpy it imports) cost every
        # `kapstone` command and web worker ~0.2 s of CPU at start otherwise, since the system
        # checks import every view and the research views import this module.
        from kapstone.research.files import ExportWriter

        path = export_dir() / f"research-export-{export.pk}-{secrets.token_hex(8)}.zip"
        with ExportWriter(path) as writer:
            size, digest = _write(
                planned, writer, lambda p, s: _progress(export.pk, 10 + p * 89 // 100, s)
            )
            counts = writer.counts
    except Exception as exc:
        # The message or traceback may carry data: only the exception's type is kept and logged.
        log.error("research export %s failed: %s", export_id, type(exc).__name__)
        with transaction.atomic():
            ResearchExport.objects.filter(pk=export_id).update(
                status=ExportStatus.FAILED, error=f"Failed: {type(exc).__name__}", step=""
            )
            export.refresh_from_db()
            record(
                actor=None,
                action="research_export.failed",
                obj=export,
                summary=f"Research export {export.pk} failed ({type(exc).__name__})",
            )
        return export
    with transaction.atomic():
        export.status = ExportStatus.READY
        export.progress = 100
        export.step = ""
        export.counts = counts
        export.k_summary = planned.report.summary()
        export.file_path = str(path)
        export.size_bytes = size
        export.sha256 = digest
        export.completed_at = now
        export.expires_at = now + dt.timedelta(hours=settings.RESEARCH_EXPORT_HOURS)
        export.save()
        record(
            actor=None,
            action="research_export.completed",
            obj=export,
            summary=f"Research export {export.pk} ready: {export.counts.get('patients', 0)} "
            f"patients, k = {planned.report.k}",
            after={
                "counts": export.counts,
                "k": export.k_summary,
                "sha256": digest,
                "expires_at": export.expires_at,
            },
        )
    return export


def _remove(export: ResearchExport) -> None:
    if export.file_path:
        Path(export.file_path).unlink(missing_ok=True)


def take_download(*, by: StaffUser, export: ResearchExport, now: dt.datetime) -> Path:
    """The export's file for its requester, once: marked downloaded and audited in one step.

    The caller opens the returned path and then removes it (:func:`discard_file`)."""
    if export.requested_by_id != by.pk:
        raise InputError.single("", "Only the person who requested an export may download it.")
    # Expiry is recorded in its own transaction: the refusal below must not roll it back.
    expire_exports(now=now)
    with transaction.atomic():
        locked = ResearchExport.objects.select_for_update().get(pk=export.pk)
        if locked.status == ExportStatus.DOWNLOADED:
            raise InputError.single("", "This export was already downloaded; request a new one.")
        if locked.status == ExportStatus.EXPIRED:
            raise InputError.single("", "This export has expired; request a new one.")
        if locked.status != ExportStatus.READY:
            raise InputError.single("", "This export is not ready.")
        path = Path(locked.file_path)
        if not path.exists():
            raise InputError.single("", "The export's file is gone; request a new one.")
        locked.status = ExportStatus.DOWNLOADED
        locked.downloaded_at = now
        locked.save(update_fields=["status", "downloaded_at"])
        record(
            actor=by,
            action="research_export.downloaded",
            obj=locked,
            summary=f"Research export {locked.pk} downloaded (sha256 {locked.sha256[:12]}…)",
            after={"sha256": locked.sha256, "size_bytes": locked.size_bytes},
        )
    return path


def discard_file(path: Path) -> None:
    path.unlink(missing_ok=True)


def _expire(export: ResearchExport, now: dt.datetime) -> None:
    _remove(export)
    export.status = ExportStatus.EXPIRED
    export.save(update_fields=["status"])
    record(
        actor=None,
        action="research_export.expired",
        obj=export,
        summary=f"Research export {export.pk} expired undownloaded; its file was removed",
    )


def expire_exports(*, now: dt.datetime) -> int:
    """Removes the file of every ready export past its expiry; returns how many."""
    expired = 0
    for candidate in ResearchExport.objects.filter(status=ExportStatus.READY, expires_at__lte=now):
        with transaction.atomic():
            locked = ResearchExport.objects.select_for_update().get(pk=candidate.pk)
            if locked.status == ExportStatus.READY:  # not downloaded meanwhile
                _expire(locked, now)
                expired += 1
    return expired
