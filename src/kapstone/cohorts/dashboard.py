"""The cohort dashboard: counted in the database from the kept course summaries when they are
current, else computed from the clinical records (exact either way; the first is fast).

Counted from the summaries, the dashboard is kept in the ``computed`` cache (settings.CACHES):
its figures are a function of the summaries' content (their ``generation``, renewed by every
refresh that changes a counted fact), the filters and period, the policy, the code, and of
``now`` only through which first doses and which awaited scores' window closes fall at or before
it. So a kept dashboard holds for every moment from the last such instant up to the next
(:func:`kept_dashboard`); only its "as of" moment is set to the moment asked.

The counts below are the SQL twin of :func:`kapstone.clinical.cohort_figures.tally` (which the
records path uses), and :func:`~kapstone.clinical.cohort_figures.assemble` turns either into the
dashboard. The two paths' dashboards are held equal by the hand-built cohort's tests after every
kind of change, and by ``bench/outcomes.py --records`` on the 100 000-patient network.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import logging
from pathlib import Path
from typing import Any, TypedDict

from django.conf import settings
from django.core.cache import caches
from django.db.models import BigIntegerField, Count, F, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import Cast

import kapstone.clinical
from kapstone.clinical import cohort as core
from kapstone.clinical import cohort_figures as figures
from kapstone.clinical.cohort_figures import CohortTallies, PointCounts, PointStatus
from kapstone.cohorts import selectors, summaries
from kapstone.cohorts.models import (
    MEASURED,
    REMITTED,
    RESPONDED,
    CourseDissociation,
    CourseSafety,
    CourseSummary,
    CourseSummaryState,
    before_column,
    point_column,
)
from kapstone.ops.db_router import replica_reads

logger = logging.getLogger(__name__)


class CohortQuery(TypedDict):
    """Which courses the dashboard counts: :func:`cohort_dashboard`'s filters, as the dashboard's
    form reads them."""

    start: dt.date
    end: dt.date
    site_id: int | None
    program: str | None
    modality: str | None
    route: str | None
    instrument: str


class _Counted(TypedDict):
    """Which courses are counted and by which policy: what :func:`figures.assemble` takes besides
    the tallies, and what the summaries are counted by."""

    instrument: str
    period_start: dt.datetime
    period_end: dt.datetime
    now: dt.datetime
    filters: core.CohortFilters
    policy: core.CohortPolicy


_RESPONDED_CODES = (MEASURED + RESPONDED, MEASURED + RESPONDED + REMITTED)
_REMITTED_CODES = (MEASURED + REMITTED, MEASURED + RESPONDED + REMITTED)
_AWAITED = int(PointStatus.AWAITED)


@dataclasses.dataclass(frozen=True, slots=True)
class Window:
    """The moments a dashboard's figures hold for: from ``since`` (the last first dose or awaited
    window's close at or before the moment it was counted for; None: no such instant) up to, not
    including, ``until`` (the next one; None: none to come)."""

    since: dt.datetime | None
    until: dt.datetime | None

    def holds_at(self, now: dt.datetime) -> bool:
        return (self.since is None or self.since <= now) and (
            self.until is None or now < self.until
        )


@replica_reads
def cohort_dashboard(
    *,
    start: dt.date,
    end: dt.date,
    site_id: int | None = None,
    program: str | None = None,
    modality: str | None = None,
    route: str | None = None,
    now: dt.datetime,
    instrument: str = "phq9",
    refreshed: bool = False,
) -> core.Dashboard:
    """The dashboard for courses whose first dose falls on a day from ``start`` to ``end``
    (inclusive, the clinic's local days), as of ``now``.

    ``refreshed``: the caller has just brought the summaries up to date (as the page does), so a
    write landing since (milliseconds ago) need not send the whole count back to the records."""
    if not refreshed and not summaries.is_current(instrument=instrument, now=now):
        return selectors.cohort_dashboard_from_records(
            start=start,
            end=end,
            site_id=site_id,
            program=program,
            modality=modality,
            route=route,
            now=now,
            instrument=instrument,
        )
    counted = counted_for(
        start=start,
        end=end,
        site_id=site_id,
        program=program,
        modality=modality,
        route=route,
        now=now,
        instrument=instrument,
    )
    figures.validate(counted["period_start"], counted["period_end"], now, instrument)
    return kept_dashboard(counted)


def counted_for(
    *,
    start: dt.date,
    end: dt.date,
    site_id: int | None = None,
    program: str | None = None,
    modality: str | None = None,
    route: str | None = None,
    now: dt.datetime,
    instrument: str = "phq9",
) -> _Counted:
    """What :func:`cohort_dashboard` counts, as :func:`figures.assemble` takes it."""
    return _Counted(
        instrument=instrument,
        period_start=selectors.local_midnight(start),
        period_end=selectors.local_midnight(end + dt.timedelta(days=1)),
        now=now,
        filters=core.CohortFilters(
            site_id=site_id,
            program=program or None,
            modality=modality or None,
            route=route or None,
        ),
        policy=selectors.COHORT_POLICY,
    )


@functools.cache
def _code() -> str:
    """A digest of the code the figures are computed by (the clinical core and this module)."""
    digest = hashlib.sha256()
    clinical = Path(kapstone.clinical.__file__).parent
    for path in sorted([*clinical.rglob("*.py"), Path(__file__)]):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _generation(instrument: str) -> tuple[str, str] | None:
    row = (
        CourseSummaryState.objects.filter(instrument=instrument)
        .values_list("generation", "fingerprint")
        .first()
    )
    return row if row and row[0] else None


def cache_key(counted: _Counted, generation: tuple[str, str]) -> str:
    """Everything the figures depend on but the moment: the summaries' generation and fingerprint
    (policy versions, programs, bands, the facts' version), the policy itself, the period as
    instants, the filters, the instrument, the code, and the clinic's time zone."""
    inputs = (
        _code(),
        generation,
        repr(counted["policy"]),
        counted["instrument"],
        counted["period_start"].isoformat(),
        counted["period_end"].isoformat(),
        repr(counted["filters"]),
        settings.TIME_ZONE,
    )
    return "cohort-dashboard:" + hashlib.sha256(repr(inputs).encode()).hexdigest()


def kept_dashboard(counted: _Counted) -> core.Dashboard:
    """The dashboard counted from the summaries, from the ``computed`` cache when one was counted
    for the same inputs and a moment its figures also hold at; else counted, and kept."""
    now, store = counted["now"], caches["computed"]
    generation = _generation(counted["instrument"])
    key = cache_key(counted, generation) if generation else None
    if key is not None:
        try:
            entry = store.get(key)
        except Exception:  # an unreadable entry (say, written by other code): count again
            logger.warning("cohort dashboard cache entry unreadable", exc_info=True)
            entry = None
        match entry:
            case (core.Dashboard() as kept, Window() as window) if window.holds_at(now):
                return dataclasses.replace(kept, now=now)
    tallies, window = tallies_and_window(counted)
    dashboard = figures.assemble(tallies, **counted)
    # Kept only if no refresh changed the summaries while they were counted (a refresh renews the
    # generation in the transaction that changes them).
    if key is not None and _generation(counted["instrument"]) == generation:
        store.set(key, (dashboard, window))
    return dashboard


def _cohort(counted: _Counted, *, begun: bool = True) -> QuerySet[CourseSummary]:
    """The summaries of the period's courses that pass the filters; ``begun``: only those whose
    first dose was at or before ``now`` (the counted ones)."""
    rows = CourseSummary.objects.filter(
        instrument=counted["instrument"],
        first_dose_at__gte=counted["period_start"],
        first_dose_at__lt=counted["period_end"],
    )
    if begun:
        rows = rows.filter(first_dose_at__lte=counted["now"])
    filters = counted["filters"]
    if filters.site_id is not None:
        rows = rows.filter(site_id=filters.site_id)
    if filters.program is not None:
        rows = rows.filter(program=filters.program)
    if filters.route is not None:
        rows = rows.filter(route=filters.route)
    if filters.modality is not None:
        rows = rows.filter(modalities__contains=summaries.joined((filters.modality,)))
    return rows.order_by()


def _split(value: str) -> tuple[str, ...]:
    return tuple(value.strip("|").split("|")) if value else ()


def tallies_from_summaries(counted: _Counted) -> CohortTallies:
    """Five grouped queries over the cohort's summaries (and their safety cells)."""
    return tallies_and_window(counted)[0]


def tallies_and_window(counted: _Counted) -> tuple[CohortTallies, Window]:
    """The tallies, and the moments they hold for (:class:`Window`): ``now`` enters the counts
    only as ``first_dose_at <= now`` and, for an awaited score, ``closes <= now`` (missing) or
    ``> now`` (not yet due)."""
    rows = _cohort(counted)
    now, policy = counted["now"], counted["policy"]
    out = CohortTallies.empty(policy)

    # 1. Counts per time point and the trajectory's sums: one pass.
    sums: dict[str, Any] = {
        "started": Count("pk"),
        "completed": Count("pk", filter=Q(completed=True)),
        "no_baseline": Count("pk", filter=Q(usable_baseline=False)),
    }
    for i in range(len(policy.time_points)):
        c = point_column(i)
        sums[f"{c}_no_baseline"] = Count("pk", filter=Q(**{c: int(PointStatus.NO_BASELINE)}))
        sums[f"{c}_not_completed"] = Count("pk", filter=Q(**{c: int(PointStatus.NOT_COMPLETED)}))
        awaited = Q(**{c: int(PointStatus.AWAITED)})
        sums[f"{c}_missing"] = Count("pk", filter=awaited & Q(**{f"{c}_closes__lte": now}))
        sums[f"{c}_not_yet_due"] = Count("pk", filter=awaited & Q(**{f"{c}_closes__gt": now}))
        sums[f"{c}_measured"] = Count("pk", filter=Q(**{f"{c}__gte": MEASURED}))
        sums[f"{c}_responders"] = Count("pk", filter=Q(**{f"{c}__in": _RESPONDED_CODES}))
        sums[f"{c}_remitters"] = Count("pk", filter=Q(**{f"{c}__in": _REMITTED_CODES}))
        sums[f"{c}_since"] = Max(f"{c}_closes", filter=awaited & Q(**{f"{c}_closes__lte": now}))
        sums[f"{c}_until"] = Min(f"{c}_closes", filter=awaited & Q(**{f"{c}_closes__gt": now}))
    for k in range(policy.trajectory_sessions):
        b = before_column(k)
        wide = Cast(b, BigIntegerField())
        sums[f"{b}_n"] = Count(b)
        sums[f"{b}_sum"] = Sum(wide)
        sums[f"{b}_squares"] = Sum(wide * F(b))
    sums["first_since"] = Max("first_dose_at")
    totals = rows.aggregate(**sums)
    # The next first dose of the period after now (a course not counted yet).
    later = _cohort(counted, begun=False).filter(first_dose_at__gt=now)
    instants = [
        totals["first_since"],
        later.aggregate(m=Min("first_dose_at"))["m"],
        *(
            totals[f"{point_column(i)}_{end}"]
            for i in range(len(policy.time_points))
            for end in ("since", "until")
        ),
    ]
    window = Window(
        since=max((t for t in instants if t is not None and t <= now), default=None),
        until=min((t for t in instants if t is not None and t > now), default=None),
    )
    out.started = totals["started"]
    out.completed = totals["completed"]
    out.no_baseline = totals["no_baseline"]
    out.points = [
        PointCounts(
            no_baseline=totals[f"{c}_no_baseline"],
            not_completed=totals[f"{c}_not_completed"],
            not_yet_due=totals[f"{c}_not_yet_due"],
            missing=totals[f"{c}_missing"],
            measured=totals[f"{c}_measured"],
            responders=totals[f"{c}_responders"],
            remitters=totals[f"{c}_remitters"],
        )
        for c in map(point_column, range(len(policy.time_points)))
    ]
    for k in range(policy.trajectory_sessions):
        b = before_column(k)
        out.trajectory[k] = [
            totals[f"{b}_n"],
            totals[f"{b}_sum"] or 0,
            totals[f"{b}_squares"] or 0,
        ]

    # 2. Breakdown cells at the breakdown time point.
    at = point_column(policy.breakdown_index)
    grouping = (at, "conditions", "program", "route", "modalities", "resistant", "severity")
    for code, conditions, program, route, modalities, resistant, severity, n in (
        rows.values(*grouping).annotate(n=Count("pk")).values_list(*grouping, "n")
    ):
        measured = code is not None and code >= MEASURED
        key: figures.CellKey = (
            measured,
            measured and code in _RESPONDED_CODES,
            measured and code in _REMITTED_CODES,
            _split(conditions),
            program,
            route,
            _split(modalities),
            resistant,
            severity,
        )
        out.cells[key] = out.cells.get(key, 0) + n

    # 3. Responders' durability, grouped by the curves' dimensions and the observation.
    by = ("program", "route", "resistant", "severity", "durability_days", "durability_lost")
    for program, route, resistant, severity, days, lost, n in (
        rows.filter(durability_days__isnull=False)
        .values(*by)
        .annotate(n=Count("pk"))
        .values_list(*by, "n")
    ):
        out.durability[(program, route, resistant, severity, days, bool(lost))] = n

    # 4-5. Safety by route and dose band, and dissociation per scale.
    members = rows.values("pk")
    for route, band, sessions, with_ae, serious in (
        CourseSafety.objects.filter(summary__in=members)
        .order_by()
        .values("route", "dose_band")
        .annotate(s=Sum("sessions"), a=Sum("with_adverse_event"), m=Sum("with_moderate_or_severe"))
        .values_list("route", "dose_band", "s", "a", "m")
    ):
        out.safety[(route, band)] = [sessions, with_ae, serious]
    for route, band, scale, ratings, total, squares in (
        CourseDissociation.objects.filter(summary__in=members)
        .order_by()
        .values("route", "dose_band", "scale")
        .annotate(r=Sum("ratings"), t=Sum("total"), q=Sum("squares"))
        .values_list("route", "dose_band", "scale", "r", "t", "q")
    ):
        out.dissociation[(route, band, scale)] = [ratings, total, squares]
    return out, window
