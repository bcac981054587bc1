"""The day board: today's sessions by site, room and chair with their phases, and what tomorrow's
patients still need before they may dose.

Phases come from the core (:mod:`kapstone.clinical.day_board`); the minutes to the next check are
the chair side's own monitoring schedule (``chairside.selectors.schedule``), not computed again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Min, Q
from django.urls import reverse
from django.utils import timezone

from kapstone.accounts.models import Site, StaffUser
from kapstone.chairside import facts as chairside_facts
from kapstone.chairside import selectors as chairside
from kapstone.chairside.models import ChairsideRecord, ChecklistAnswer
from kapstone.chairside.policy import monitoring_policy
from kapstone.clinical.access import Permission, may
from kapstone.clinical.day_board import (
    DosingFacts,
    DosingPhase,
    IntegrationFacts,
    IntegrationPhase,
    Phase,
    dosing_phase,
    integration_phase,
    observation_ends_at,
)
from kapstone.clinical.instruments import INSTRUMENTS
from kapstone.clinical.measurement_schedule import MeasureStatus
from kapstone.clinical.monitoring_cadence import dose_end
from kapstone.clinical.pre_dose_checklist import ChecklistItem
from kapstone.dosing.models import DosingSession, SessionStatus
from kapstone.intake.models import EligibilityReview
from kapstone.integration.models import (
    IntegrationNoteSignature,
    IntegrationSession,
    IntegrationStatus,
)
from kapstone.kernel.read_once import reading_once
from kapstone.measures.selectors import PatientSchedule, schedules_for
from kapstone.patients.models import Patient
from kapstone.plans.models import TreatmentPlan
from kapstone.safety.models import DosingHold, SafetyAlert

CHART = Permission.CHART_DOSING_SESSION


@dataclass(frozen=True)
class DosingRow:
    session: DosingSession
    patient: Patient
    place: str  # room or chair
    phase: Phase[DosingPhase]
    minutes_in_phase: int | None
    next_check_minutes: int | None  # negative: overdue by that much; None: nothing scheduled
    session_alerts: int  # open chair-side alerts
    suicide_risk: bool  # an open suicide-risk alert on the patient
    escort: str
    escort_ok: bool | None
    console_url: str | None  # None when the user may not chart this patient
    may_check_in: bool


@dataclass(frozen=True)
class IntegrationRow:
    session: IntegrationSession
    patient: Patient
    place: str
    phase: Phase[IntegrationPhase]
    minutes_in_phase: int | None
    note_url: str | None


@dataclass(frozen=True)
class SiteBoard:
    site: Site
    dosing: list[DosingRow]
    integration: list[IntegrationRow]


@dataclass(frozen=True)
class TomorrowRow:
    session: DosingSession
    patient: Patient
    missing: list[str]
    chart_url: str | None


@dataclass(frozen=True)
class DayBoard:
    day: dt.date
    now: dt.datetime
    sites: list[SiteBoard]


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start, timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def sites_for(user: StaffUser) -> list[Site]:
    """The sites the user works at; all of them for staff not tied to a site."""
    mine = list(user.sites.order_by("name", "pk"))
    return mine or list(Site.objects.order_by("name", "pk"))


def _escort(answer: ChecklistAnswer | None) -> tuple[str, bool | None]:
    if answer is None:
        return "Not asked yet", None
    if answer.value is True:
        return "Escort and ride home confirmed", True
    return "No escort or ride home", False


def _on_team(user: StaffUser, patient: Patient) -> bool:
    return user.pk in patient.care_team_ids()


def _dosing_row(
    session: DosingSession,
    record: ChairsideRecord | None,
    *,
    user: StaffUser,
    now: dt.datetime,
    open_alerts: dict[int, int],
    escorts: dict[int, ChecklistAnswer],
    risk: set[int],
) -> DosingRow:
    patient = session.patient
    arrival = getattr(session, "arrival", None)
    next_check: int | None = None
    if record is None:
        facts = DosingFacts(arrived_at=arrival.arrived_at if arrival else None)
    else:
        timing = chairside_facts.dose_timing(record)
        protocol = monitoring_policy().protocol_for(record.route_value)
        started = timing.started_at
        facts = DosingFacts(
            arrived_at=arrival.arrived_at if arrival else None,
            record_opened_at=record.opened_at,
            dose_started_at=started,
            dose_ended_at=None if started is None else dose_end(timing, protocol),
            observation_ends_at=observation_ends_at(timing, protocol),
            discharged_at=record.discharged_at,
        )
        if record.discharged_at is None:
            due = chairside.schedule(record, now).next_due_at
            if due is not None:
                next_check = int((due - now).total_seconds() // 60)
    phase = dosing_phase(facts, now=now)
    on_team = _on_team(user, patient)
    role = user.staff_role
    escort, escort_ok = _escort(escorts.get(record.pk) if record is not None else None)
    return DosingRow(
        session=session,
        patient=patient,
        place=session.room.name if session.room is not None else "No room booked",
        phase=phase,
        minutes_in_phase=phase.minutes_in_phase(now),
        next_check_minutes=next_check,
        session_alerts=open_alerts.get(record.pk, 0) if record is not None else 0,
        suicide_risk=patient.pk in risk,
        escort=escort,
        escort_ok=escort_ok,
        console_url=reverse("chairside:console", args=[patient.pk, session.pk])
        if may(role, CHART, on_care_team=on_team)
        else None,
        may_check_in=phase.phase is DosingPhase.BOOKED
        and session.status == SessionStatus.BOOKED
        and may(role, Permission.CHECK_IN_PATIENT, on_care_team=on_team),
    )


def day_board(*, user: StaffUser, now: dt.datetime | None = None) -> DayBoard:
    now = now or timezone.now()
    day = timezone.localdate(now)
    start, end = _day_bounds(day)
    sites = sites_for(user)
    sessions = list(
        DosingSession.objects.filter(site__in=sites, starts_at__gte=start, starts_at__lt=end)
        .exclude(status=SessionStatus.CANCELLED)
        .select_related("patient", "room", "site", "arrival", "chairside")
        .order_by("site__name", "room__name", "starts_at", "pk")
    )
    records = {s.pk: s.chairside for s in sessions if getattr(s, "chairside", None) is not None}
    record_ids = [r.pk for r in records.values()]
    open_alerts = dict(
        ChairsideRecord.objects.filter(pk__in=record_ids)
        .annotate(n=Count("alerts", filter=Q(alerts__acknowledgement__isnull=True)))
        .values_list("pk", "n")
    )
    escorts: dict[int, ChecklistAnswer] = {}
    for answer in ChecklistAnswer.objects.filter(
        record_id__in=record_ids, item=ChecklistItem.ESCORT.value
    ).order_by("answered_at", "pk"):
        escorts[answer.record_id] = answer  # the latest answer wins
    patient_ids = {s.patient_id for s in sessions}
    integration = list(
        IntegrationSession.objects.filter(site__in=sites, starts_at__gte=start, starts_at__lt=end)
        .exclude(status=IntegrationStatus.CANCELLED)
        .select_related("patient", "room", "site")
        .order_by("site__name", "room__name", "starts_at", "pk")
    )
    patient_ids |= {s.patient_id for s in integration}
    risk = set(
        SafetyAlert.objects.filter(
            patient_id__in=patient_ids, acknowledgement__isnull=True
        ).values_list("patient_id", flat=True)
    )
    signed = dict(
        IntegrationNoteSignature.objects.filter(session__in=integration)
        .values("session_id")
        .annotate(at=Min("signed_at"))
        .values_list("session_id", "at")
    )
    boards: dict[int, SiteBoard] = {
        s.pk: SiteBoard(site=s, dosing=[], integration=[]) for s in sites
    }
    # Each row's phase and next check come from the chair side's own reads, done here for every
    # record at once (a query per kind of fact, not per session) and read once for the board.
    with reading_once():
        chairside.read_for_schedules(records.values())
        for session in sessions:
            boards[session.site_id].dosing.append(
                _dosing_row(
                    session,
                    records.get(session.pk),
                    user=user,
                    now=now,
                    open_alerts=open_alerts,
                    escorts=escorts,
                    risk=risk,
                )
            )
    role = user.staff_role
    for isession in integration:
        phase = integration_phase(
            IntegrationFacts(starts_at=isession.starts_at, note_signed_at=signed.get(isession.pk)),
            now=now,
        )
        note_url = (
            reverse("integration:session", args=[isession.patient_id, isession.pk])
            if may(
                role,
                Permission.SEE_INTEGRATION_NOTES,
                on_care_team=_on_team(user, isession.patient),
            )
            else None
        )
        boards[isession.site_id].integration.append(
            IntegrationRow(
                session=isession,
                patient=isession.patient,
                place=isession.room.name if isession.room is not None else "No room booked",
                phase=phase,
                minutes_in_phase=phase.minutes_in_phase(now),
                note_url=note_url,
            )
        )
    return DayBoard(
        day=day,
        now=now,
        sites=[b for b in boards.values() if b.dosing or b.integration],
    )


@dataclass(frozen=True)
class Readiness:
    """What :func:`missing_before_dosing` reads, for many patients in a fixed number of queries:
    the same facts the owning selectors give one patient at a time."""

    eligible: set[int]  # the latest eligibility review is fully signed (signed_eligibility)
    plans: dict[int, TreatmentPlan]  # the signed plan in force (plan_in_force / signed_plan)
    open_alerts: set[int]  # an unacknowledged suicide-risk alert
    held: set[int]  # a dosing hold awaiting review (active_hold)
    schedules: dict[int, PatientSchedule]  # the measurement schedule (schedule_for)


def readiness(patient_ids: Iterable[int], now: dt.datetime) -> Readiness:
    ids = sorted(set(patient_ids))
    latest_review: dict[int, EligibilityReview] = {}
    for review in (
        EligibilityReview.objects.filter(patient_id__in=ids)
        .select_related(
            "eligibility_signature__signed_by", "eligibility_signature__cosignature__cosigned_by"
        )
        .order_by("-pk")
    ):
        latest_review.setdefault(review.patient_id, review)  # the latest counts, signed or not
    plans: dict[int, TreatmentPlan] = {}
    for plan in TreatmentPlan.objects.filter(patient_id__in=ids, signature__isnull=False).order_by(
        "-revision"
    ):
        plans.setdefault(plan.patient_id, plan)
    return Readiness(
        eligible={pid for pid, review in latest_review.items() if review.fully_signed},
        plans=plans,
        open_alerts=set(
            SafetyAlert.objects.filter(
                patient_id__in=ids, acknowledgement__isnull=True
            ).values_list("patient_id", flat=True)
        ),
        held=set(
            DosingHold.objects.filter(patient_id__in=ids, review__isnull=True).values_list(
                "patient_id", flat=True
            )
        ),
        schedules={
            row.patient.pk: row for row in schedules_for(Patient.objects.filter(pk__in=ids), now)
        },
    )


def missing_before_dosing(
    patient: Patient, before: dt.datetime, now: dt.datetime, known: Readiness | None = None
) -> list[str]:
    """What stops ``patient`` dosing at ``before``: the facts of :func:`readiness` (``known``
    when read already for the whole list)."""
    known = known or readiness([patient.pk], now)
    missing: list[str] = []
    if patient.pk not in known.eligible:
        missing.append("Eligibility not signed")
    plan = known.plans.get(patient.pk)
    if plan is None:
        missing.append("No signed treatment plan")
    elif plan.consent_at is None:
        missing.append("No consent on the signed plan")
    if patient.pk in known.open_alerts:
        missing.append("Open suicide-risk alert")
    if patient.pk in known.held:
        missing.append("Dosing on hold until a prescriber's review")
    row = known.schedules.get(patient.pk)
    if row is not None and row.problem:
        missing.append(f"Measurement schedule cannot be computed: {row.problem}")
    schedule = row.schedule if row is not None else None
    if schedule is not None:
        due = sorted(
            {
                INSTRUMENTS[o.instrument].title
                for o in schedule.occurrences
                if o.status in (MeasureStatus.DUE, MeasureStatus.OVERDUE)
                or (o.status is MeasureStatus.UPCOMING and o.opens_at <= before)
            }
        )
        if due:
            missing.append("Measures due: " + ", ".join(due))
    return missing


def tomorrow(
    *, user: StaffUser, now: dt.datetime | None = None, sites: list[Site] | None = None
) -> list[TomorrowRow]:
    """Tomorrow's dosing sessions at the user's sites, each with what is missing before dosing.
    Read once with the page, not on every poll: what it reads changes over hours, not seconds."""
    now = now or timezone.now()
    sites = sites if sites is not None else sites_for(user)
    start, end = _day_bounds(timezone.localdate(now) + dt.timedelta(days=1))
    rows = []
    role = user.staff_role
    sessions = list(
        DosingSession.objects.filter(site__in=sites, starts_at__gte=start, starts_at__lt=end)
        .exclude(status=SessionStatus.CANCELLED)
        .select_related("patient", "site")
        .order_by("starts_at", "pk")
    )
    known = readiness((s.patient_id for s in sessions), now)
    for session in sessions:
        patient = session.patient
        rows.append(
            TomorrowRow(
                session=session,
                patient=patient,
                missing=missing_before_dosing(patient, session.starts_at, now, known),
                chart_url=reverse("patients:chart", args=[patient.pk])
                if may(role, Permission.OPEN_CHART, on_care_team=_on_team(user, patient))
                else None,
            )
        )
    return rows
