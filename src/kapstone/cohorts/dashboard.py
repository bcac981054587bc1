"""The cohort dashboard: counted in the database from the kept course summaries when they are
current, else computed from the clinical records (exact either way; the first is fast).

The counts below are the SQL twin of :func:`kapstone.clinical.cohort_figures.tally` (which the
records path uses), and :func:`~kapstone.clinical.cohort_figures.assemble` turns either into the
dashboard. The two paths' dashboards are held equal by the hand-built cohort's tests after every
kind of change, and by ``bench/outcomes.py --records`` on the 100 000-patient network.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypedDict

from django.db.models import BigIntegerField, Count, F, Q, QuerySet, Sum
from django.db.models.functions import Cast

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
    before_column,
    point_column,
)
from kapstone.ops.db_router import replica_reads


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
    counted = _Counted(
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
    figures.validate(counted["period_start"], counted["period_end"], now, instrument)
    return figures.assemble(tallies_from_summaries(counted), **counted)


def _cohort(counted: _Counted) -> QuerySet[CourseSummary]:
    rows = CourseSummary.objects.filter(
        instrument=counted["instrument"],
        first_dose_at__gte=counted["period_start"],
        first_dose_at__lt=counted["period_end"],
        first_dose_at__lte=counted["now"],
    )
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
    for k in range(policy.trajectory_sessions):
        b = before_column(k)
        wide = Cast(b, BigIntegerField())
        sums[f"{b}_n"] = Count(b)
        sums[f"{b}_sum"] = Sum(wide)
        sums[f"{b}_squares"] = Sum(wide * F(b))
    totals = rows.aggregate(**sums)
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
    return out
