"""The day board: today's sessions by site, room and chair with their phases, and what tomorrow's
patients still need before they may dose.

Phases come from the core (:mod:`kapstone.clinical.day_board`); the minutes to the next check are
the chair side's own monitoring schedule (``chairside.selectors.schedule``), not computed again.
"""

from __future__ import annotations

import datetime as dt
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
from kapstone.intake.selectors import signed_eligibility
from kapstone.integration.models import (
    IntegrationNoteSignature,
    IntegrationSession,
    IntegrationStatus,
)
from kapstone.measures.selectors import schedule_for
from kapstone.patients.models import Patient
from kapstone.plans.selectors import signed_plan
from kapstone.safety.models import SafetyAlert
from kapstone.safety.selectors import active_hold

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


def missing_before_dosing(patient: Patient, before: dt.datetime, now: dt.datetime) -> list[str]:
    """What stops ``patient`` dosing at ``before``, read by the selectors that own each fact."""
    missing: list[str] = []
    if signed_eligibility(patient) is None:
        missing.append("Eligibility not signed")
    plan = signed_plan(patient)
    if plan is None:
        missing.append("No signed treatment plan")
    elif plan.plan.consent_at is None:
        missing.append("No consent on the signed plan")
    if SafetyAlert.objects.filter(patient=patient, acknowledgement__isnull=True).exists():
        missing.append("Open suicide-risk alert")
    if active_hold(patient) is not None:
        missing.append("Dosing on hold until a prescriber's review")
    schedule = schedule_for(patient, now)
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
    for session in (
        DosingSession.objects.filter(site__in=sites, starts_at__gte=start, starts_at__lt=end)
        .exclude(status=SessionStatus.CANCELLED)
        .select_related("patient", "site")
        .order_by("starts_at", "pk")
    ):
        patient = session.patient
        rows.append(
            TomorrowRow(
                session=session,
                patient=patient,
                missing=missing_before_dosing(patient, session.starts_at, now),
                chart_url=reverse("patients:chart", args=[patient.pk])
                if may(role, Permission.OPEN_CHART, on_care_team=_on_team(user, patient))
                else None,
            )
        )
    return rows
