"""The cohort dashboard's reads: a few narrow queries, then the pure core computes.

:func:`gather_patients` gathers, for a set of patients (:func:`gather_courses`: those whose first
dosing session held falls in a period), in eleven queries whatever their number (no per-patient
queries):

1. their dosing sessions not cancelled (moment, site, route, plan), booked ones included so a
   course without a program knows its planned length;
2. one instrument's submitted totals from the baseline window on;
3. their signed treatment plans (program, route, confirmed modalities, the program's number of
   dosing sessions);
4. their measurement care plans (the program when no treatment plan was signed: the demo's
   patients and patients started before plans were kept);
5. the presenting conditions of their latest intake version;
6. the treatment resistance the latest eligibility screen derived;
7-10. the chair-side records of their sessions, with doses, dissociation ratings and adverse
   events (for the safety rates by route and dose band, and the route actually given);
11. the modalities of their integration sessions held;

plus the program templates (a handful of rows). Rows come back as tuples (``values_list``) and are
grouped in Python into :class:`kapstone.clinical.cohort.Course` records; no model instance is built.

Which plan describes a course: the signed plan the first dosing session names, else the last plan
signed at or before the first dose, else the first signed after it. Route: the plan's, else the
first session's, else the route charted at the chair side for the first session charted (a
session booked without a route, a patient treated before plans were kept: the dose was still
given by some route, and the chair-side record says which). Modalities: the plan's confirmed ones,
else those of the integration sessions held. Site: the first session's (where the course was
given). The course's length: the program's number of dosing sessions; with no program known, the
number of sessions booked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Max, Min
from django.utils import timezone

from kapstone.assessments.models import QuestionnaireResponse, ResponseStatus
from kapstone.clinical import cohort as core
from kapstone.clinical import cohort_figures as figures
from kapstone.clinical.instruments import INSTRUMENTS
from kapstone.dosing.models import DosingSession
from kapstone.dosing.selectors import with_dose_time
from kapstone.intake.models import EligibilityReview, IntakeVersion
from kapstone.integration.models import IntegrationSession, IntegrationStatus
from kapstone.measures.models import MeasurementCarePlan
from kapstone.outcomes.selectors import OUTCOME_POLICY
from kapstone.plans.models import PlanSignature, ProgramTemplateVersion

Dashboard = core.Dashboard

# The clinic's cohort policy: time-point windows, baseline age, breakdown time point. Clinic
# policy the medical director may change; the page and every export name its version.
COHORT_POLICY = core.CohortPolicy(
    outcome=OUTCOME_POLICY, time_points=core.default_time_points(OUTCOME_POLICY)
)

# Instruments the dashboard offers: a total where higher is worse, with a remission criterion.
DASHBOARD_INSTRUMENTS = tuple(
    name
    for name in ("phq9", "madrs", "gad7", "qids_sr16")
    if name in INSTRUMENTS and COHORT_POLICY.outcome.remission_for(name) is not None
)


def local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@dataclass(frozen=True)
class ProgramInfo:
    key: str
    name: str
    dosing_sessions: int
    measurement_plan: str


def programs() -> dict[str, ProgramInfo]:
    """The program in force for each key (its name and number of dosing sessions)."""
    rows = ProgramTemplateVersion.objects.filter(superseded_by__isnull=True).values_list(
        "key", "name", "dosing_sessions", "measurement_plan"
    )
    return {key: ProgramInfo(key, name, n, plan) for key, name, n, plan in rows}


def _program_for_care_plan(infos: Iterable[ProgramInfo]) -> dict[str, str]:
    """Measurement plan -> program key, where exactly one program uses that measurement plan."""
    seen: dict[str, list[str]] = {}
    for info in infos:
        if info.measurement_plan:
            seen.setdefault(info.measurement_plan, []).append(info.key)
    return {plan: keys[0] for plan, keys in seen.items() if len(keys) == 1}


def gather_courses(
    *, period_start: dt.datetime, period_end: dt.datetime, now: dt.datetime, instrument: str
) -> list[core.Course]:
    """One Course per patient whose first dosing session held (by ``now``) is in the period."""
    starters = (
        with_dose_time(DosingSession.objects.all())
        .filter(given_at__lte=now)
        .order_by()
        .values("patient_id")
        .annotate(first=Min("given_at"))
        .filter(first__gte=period_start, first__lt=period_end)
        .values("patient_id")
    )
    courses, _ = gather_patients(
        starters,
        now=now,
        instrument=instrument,
        scores_from=period_start - COHORT_POLICY.baseline_max_age,
    )
    return courses


def _of_latest[M: (IntakeVersion, EligibilityReview)](
    model: type[M], patients: Any, field: str
) -> Iterable[tuple[int, Any]]:
    """(patient id, ``field``) of each patient's latest row of ``model`` (the highest pk)."""
    rows = model.objects.filter(patient_id__in=patients).order_by()
    latest = rows.values("patient_id").annotate(latest=Max("pk")).values("latest")
    return model.objects.filter(pk__in=latest).order_by().values_list("patient_id", field)


def gather_patients(
    patients: Any,
    *,
    now: dt.datetime,
    instrument: str,
    scores_from: dt.datetime | None = None,
) -> tuple[list[core.Course], dict[int, dt.datetime]]:
    """The courses of ``patients`` (a query of patient ids, or a list) with a dose held by
    ``now``, and for every one of them with a dosing session booked after ``now``, the first such
    session's start (when their course's facts next change)."""
    # When each dose was given (charted, else booked): kapstone.dosing.selectors.with_dose_time.
    held = with_dose_time(DosingSession.objects.all())

    # 1. Sessions (booked ones too: their count is the course length when no program is known).
    sessions: dict[int, list[tuple[dt.datetime, int, str, int | None]]] = {}
    for patient_id, at, site_id, route, plan_id in (
        held.filter(patient_id__in=patients)
        .order_by()
        .values_list("patient_id", "given_at", "site_id", "route", "plan_id")
    ):
        sessions.setdefault(patient_id, []).append((at, site_id, route, plan_id))

    # 2. Scores of one instrument, from the earliest possible baseline on.
    scores: dict[int, list[tuple[dt.datetime, int]]] = {}
    score_rows = QuestionnaireResponse.objects.filter(
        instrument=instrument,
        status=ResponseStatus.SUBMITTED,
        total__isnull=False,
        submitted_at__lte=now,
        questionnaire_set__patient_id__in=patients,
    )
    if scores_from is not None:
        score_rows = score_rows.filter(submitted_at__gte=scores_from)
    for patient_id, submitted_at, total in score_rows.order_by().values_list(
        "questionnaire_set__patient_id", "submitted_at", "total"
    ):
        if submitted_at is not None and total is not None:  # always, by the filter above
            scores.setdefault(patient_id, []).append((submitted_at, total))

    # 3. Signed treatment plans.
    signed: dict[int, list[tuple[dt.datetime, int, str, str, list[str]]]] = {}
    for patient_id, signed_at, plan_id, key, route, modalities in (
        PlanSignature.objects.filter(plan__patient_id__in=patients, signed_at__lte=now)
        .order_by()
        .values_list(
            "plan__patient_id",
            "signed_at",
            "plan_id",
            "plan__program__key",
            "plan__route",
            "plan__modalities",
        )
    ):
        signed.setdefault(patient_id, []).append(
            (signed_at, plan_id, key, route, list(modalities or []))
        )

    # 4. Measurement care plans: the latest row is the plan in force.
    care_plans: dict[int, str] = {}
    for patient_id, care_plan in (
        MeasurementCarePlan.objects.filter(patient_id__in=patients)
        .order_by("pk")
        .values_list("patient_id", "plan")
    ):
        care_plans[patient_id] = care_plan

    # 5. Presenting conditions of the latest intake version.
    conditions: dict[int, tuple[str, ...]] = {
        patient_id: tuple(str(c) for c in (value or []) if c)
        for patient_id, value in _of_latest(IntakeVersion, patients, "facts__presenting_conditions")
    }

    # 6. Treatment resistance from the latest eligibility screen.
    resistant: dict[int, bool | None] = {
        patient_id: value if isinstance(value, bool) else None
        for patient_id, value in _of_latest(
            EligibilityReview, patients, "derived__treatment_resistant_depression"
        )
    }

    safety, given_route = _session_safety(patients, now)

    # 11. Modalities of the integration sessions held, for courses without a signed plan.
    practised: dict[int, set[str]] = {}
    for patient_id, modality in (
        IntegrationSession.objects.filter(patient_id__in=patients, starts_at__lte=now)
        .exclude(status=IntegrationStatus.CANCELLED)
        .exclude(modality="")
        .order_by()
        .values_list("patient_id", "modality")
    ):
        practised.setdefault(patient_id, set()).add(modality)

    infos = programs()
    by_care_plan = _program_for_care_plan(infos.values())
    courses: list[core.Course] = []
    next_session: dict[int, dt.datetime] = {}
    for patient_id, rows in sessions.items():
        rows.sort(key=lambda r: r[0])
        doses = tuple(r[0] for r in rows if r[0] <= now)
        later = next((r[0] for r in rows if r[0] > now), None)
        if later is not None:
            next_session[patient_id] = later
        if not doses:
            continue
        first_at, site_id, session_route, first_plan = rows[0]
        plan = _plan_for(signed.get(patient_id, ()), first_at, first_plan)
        program = plan[2] if plan else by_care_plan.get(care_plans.get(patient_id, ""), "")
        info = infos.get(program)
        patient_scores = scores.get(patient_id, [])
        patient_scores.sort(key=lambda s: s[0])
        courses.append(
            core.Course(
                key=patient_id,
                site_id=site_id,
                program=program,
                route=(plan[3] if plan else "") or session_route or given_route.get(patient_id, ""),
                modalities=(
                    tuple(plan[4]) if plan else tuple(sorted(practised.get(patient_id, ())))
                ),
                conditions=conditions.get(patient_id, ()),
                treatment_resistant=resistant.get(patient_id),
                doses=doses,
                course_sessions=info.dosing_sessions if info else len(rows),
                scores=tuple(patient_scores),
                sessions=tuple(safety.get(patient_id, ())),
            )
        )
    return courses, next_session


def _session_safety(
    patients: Any, now: dt.datetime
) -> tuple[dict[int, list[core.SessionSafety]], dict[int, str]]:
    """7-10. The chair-side records of the cohort's sessions held by ``now``: route, total dose,
    each scale's peak dissociation and the adverse events' severities; and per patient the route
    charted for the earliest session with a chair-side record."""
    from kapstone.chairside.models import (
        AdverseEvent,
        ChairsideRecord,
        DissociationRating,
        DoseAdministration,
    )

    given = (
        with_dose_time(DosingSession.objects.filter(patient_id__in=patients))
        .filter(given_at__lte=now)
        .values("pk")
    )
    in_cohort = {"record__session__in": given}
    records: dict[int, tuple[int, str]] = {}
    earliest: dict[int, tuple[dt.datetime, str]] = {}
    for record_id, patient_id, route, starts_at in (
        ChairsideRecord.objects.filter(session__in=given)
        .order_by()
        .values_list("pk", "session__patient_id", "route", "session__starts_at")
    ):
        records[record_id] = (patient_id, route)
        if route and (patient_id not in earliest or starts_at < earliest[patient_id][0]):
            earliest[patient_id] = (starts_at, route)
    doses: dict[int, float] = {}
    for record_id, dose in (
        DoseAdministration.objects.filter(**in_cohort)
        .order_by()
        .values_list("record_id", "dose_mg")
    ):
        doses[record_id] = doses.get(record_id, 0.0) + float(dose)
    peaks: dict[int, dict[str, int]] = {}
    for record_id, scale, score in (
        DissociationRating.objects.filter(is_baseline=False, **in_cohort)
        .order_by()
        .values_list("record_id", "scale", "score")
    ):
        by_scale = peaks.setdefault(record_id, {})
        by_scale[scale] = max(score, by_scale.get(scale, 0))
    events: dict[int, list[str]] = {}
    for record_id, severity in (
        AdverseEvent.objects.filter(**in_cohort).order_by().values_list("record_id", "severity")
    ):
        events.setdefault(record_id, []).append(severity)
    out: dict[int, list[core.SessionSafety]] = {}
    for record_id, (patient_id, route) in records.items():
        out.setdefault(patient_id, []).append(
            core.SessionSafety(
                route=route,
                dose_mg=doses.get(record_id),
                dissociation=tuple(sorted(peaks.get(record_id, {}).items())),
                adverse_events=tuple(events.get(record_id, ())),
            )
        )
    return out, {patient_id: route for patient_id, (_, route) in earliest.items()}


def _plan_for(
    plans: Iterable[tuple[dt.datetime, int, str, str, list[str]]],
    first_dose: dt.datetime,
    named: int | None,
) -> tuple[dt.datetime, int, str, str, list[str]] | None:
    ordered = sorted(plans, key=lambda p: p[0])
    if not ordered:
        return None
    if named is not None:
        for plan in ordered:
            if plan[1] == named:
                return plan
    before = [p for p in ordered if p[0] <= first_dose]
    return before[-1] if before else ordered[0]


def cohort_dashboard_from_records(
    *,
    start: dt.date,
    end: dt.date,
    site_id: int | None = None,
    program: str | None = None,
    modality: str | None = None,
    route: str | None = None,
    now: dt.datetime,
    instrument: str = "phq9",
) -> Dashboard:
    """The dashboard computed from the clinical records themselves (every session, score and
    chair-side record of the cohort): exact for any ``now``, slow on a large network.
    :func:`kapstone.cohorts.dashboard.cohort_dashboard` uses it when the kept course summaries
    are not current."""
    period_start = local_midnight(start)
    period_end = local_midnight(end + dt.timedelta(days=1))
    courses = gather_courses(
        period_start=period_start, period_end=period_end, now=now, instrument=instrument
    )
    definition = INSTRUMENTS.get(instrument)
    return figures.cohort_dashboard(
        courses,
        instrument=instrument,
        period_start=period_start,
        period_end=period_end,
        now=now,
        filters=core.CohortFilters(
            site_id=site_id, program=program or None, modality=modality or None, route=route or None
        ),
        bands=definition.bands if definition else (),
        policy=COHORT_POLICY,
    )


def describe_filters(values: dict[str, Any]) -> str:
    """For audit summaries: which filters were set (ids and codes, never patient data)."""
    return ", ".join(f"{k}={v}" for k, v in values.items() if v not in (None, "")) or "none"


def site_names() -> dict[int, str]:
    from kapstone.accounts.models import Site

    return dict(Site.objects.values_list("pk", "name"))


def sites_by_name() -> list[tuple[int, str]]:
    """(id, name) of every site, by name: the dashboard's site filter."""
    from kapstone.accounts.models import Site

    return list(Site.objects.order_by("name").values_list("pk", "name"))
