"""Reads of the chair-side record, for the console and for other apps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

from django.db.models import Sum

from kapstone.accounts.models import Room, StaffUser
from kapstone.chairside import facts
from kapstone.chairside.feed import FeedStatus, feed_status
from kapstone.chairside.models import (
    AdverseEvent,
    ChairsideRecord,
    ChecklistAnswer,
    DeviceVerdict,
    DischargeSignoff,
    DissociationRating,
    DoseAdministration,
    DoseChangeDecision,
    ProceedDecision,
    SessionAddendum,
    SessionAlert,
    VitalReading,
)
from kapstone.chairside.policy import monitoring_policy
from kapstone.clinical.access import CLINICAL_ROLES, Role
from kapstone.clinical.alerts import AlertGrade, PreDoseBloodPressureCheck
from kapstone.clinical.ledger_entries import EntryKind
from kapstone.clinical.monitoring_cadence import MonitoringSchedule, monitoring_schedule
from kapstone.clinical.pre_dose_checklist import PreDoseAssessment
from kapstone.dosing.models import SessionStatus
from kapstone.kernel.read_once import once_per_page, remember
from kapstone.ledger.models import LedgerEntry
from kapstone.plans.selectors import SessionDose


@dataclass(frozen=True, slots=True)
class SessionDoseFacts:
    """What a trend beside a course needs from one session: the dose given and peak dissociation."""

    session_id: int
    route: str
    dose_mg: Decimal | None  # total given in the session; None when no dose is charted
    dissociation_scale: str | None  # DissociationScale value ("cadss" or "cadss_6")
    dissociation_score: int | None  # the peak (highest) rating after dosing on that scale


def dose_and_dissociation(session_ids: Iterable[int]) -> dict[int, SessionDoseFacts]:
    """Dose and peak dissociation per dosing session, for sessions with a chair-side record.

    Three queries whatever the number of sessions. Pre-dose (baseline) ratings are not peaks.
    """
    ids = list(session_ids)
    if not ids:
        return {}
    records = dict(
        ChairsideRecord.objects.filter(session_id__in=ids).values_list("pk", "session_id")
    )
    routes = dict(ChairsideRecord.objects.filter(pk__in=records).values_list("pk", "route"))
    doses = dict(
        DoseAdministration.objects.filter(record_id__in=records)
        .values("record_id")
        .annotate(total=Sum("dose_mg"))
        .values_list("record_id", "total")
    )
    peaks: dict[int, tuple[str, int]] = {}
    for record_id, scale, score in (
        DissociationRating.objects.filter(record_id__in=records, is_baseline=False)
        .order_by("record_id", "score")
        .values_list("record_id", "scale", "score")
    ):
        peaks[record_id] = (scale, score)  # ordered by score: the last one seen is the peak
    facts: dict[int, SessionDoseFacts] = {}
    for record_id, session_id in records.items():
        peak = peaks.get(record_id)
        facts[session_id] = SessionDoseFacts(
            session_id=session_id,
            route=routes[record_id],
            dose_mg=doses.get(record_id),
            dissociation_scale=peak[0] if peak else None,
            dissociation_score=peak[1] if peak else None,
        )
    return facts


# --- the monitor listener ---------------------------------------------------------------------


def open_record_in_room(room: Room | int, at: dt.datetime) -> ChairsideRecord | None:
    """The chair-side record of the dosing session in progress in ``room`` at ``at``: opened by
    then, neither discharged nor signed, its session not cancelled. None when there is none, and
    also when there are two (a previous patient not yet discharged): a monitor reading is never
    charted on a guess; the listener keeps it as waiting."""
    room_id = room.pk if isinstance(room, Room) else room
    found = list(
        ChairsideRecord.objects.select_related("session__patient")
        .filter(
            session__room_id=room_id,
            opened_at__lte=at,
            discharged_at__isnull=True,
            signed_at__isnull=True,
        )
        .exclude(session__status=SessionStatus.CANCELLED)[:2]
    )
    return found[0] if len(found) == 1 else None


# --- the console ----------------------------------------------------------------------------


def record_for_session(session_id: int, patient_id: int) -> ChairsideRecord | None:
    return (
        ChairsideRecord.objects.select_related(
            "session__patient", "session__plan", "session__site", "signed_by", "opened_by"
        )
        .filter(session_id=session_id, session__patient_id=patient_id)
        .first()
    )


@once_per_page
def session_alerts(record: ChairsideRecord) -> list[SessionAlert]:
    """Every alert of the session, earliest first, with its reading, adverse event and
    acknowledgement: the alerts the console shows in several places, read once."""
    return list(
        record.alerts.select_related("reading", "adverse_event", "acknowledgement__by").order_by(
            "raised_at", "pk"
        )
    )


def _acknowledged(alert: SessionAlert) -> bool:
    return hasattr(alert, "acknowledgement")  # read with the alert: no query


def open_alerts(record: ChairsideRecord) -> list[SessionAlert]:
    return [a for a in session_alerts(record) if not _acknowledged(a)]


def acknowledged_alerts(record: ChairsideRecord) -> list[SessionAlert]:
    """Latest first."""
    done = [a for a in session_alerts(record) if _acknowledged(a)]
    return sorted(done, key=lambda a: a.raised_at, reverse=True)


def alerts_version(record: ChairsideRecord) -> str:
    """Changes whenever an alert is raised or acknowledged: the poller swaps only then, so a note
    being typed into an acknowledgement is not wiped every few seconds."""
    alerts = session_alerts(record)
    raised = sorted(a.pk for a in alerts)
    acked = sorted(a.acknowledgement.pk for a in alerts if _acknowledged(a))
    return f"{raised}-{acked}"


@once_per_page
def recheck_times(record: ChairsideRecord) -> list[dt.datetime]:
    return [
        a.raised_at
        for a in session_alerts(record)
        if a.grade == AlertGrade.RECHECK_IN_5_MINUTES.value
    ]


@once_per_page
def session_draws(record: ChairsideRecord) -> list[LedgerEntry]:
    """The ledger's draws for this session that were not reversed."""
    return list(
        LedgerEntry.objects.filter(
            kind=EntryKind.DRAW, dosing_session=record.session, reversed_by__isnull=True
        )
        .select_related("lot__product", "location", "account")
        .order_by("seq")
    )


def read_for_schedules(records: Iterable[ChairsideRecord]) -> None:
    """Within :func:`~kapstone.kernel.read_once.reading_once`, reads what :func:`schedule` needs
    of every record (doses, the readings that count, ratings, recheck requests) in four queries in
    all, so a page listing many sessions in progress (the day board) does not read per row."""
    records = list(records)
    ids = [r.pk for r in records]
    if not ids:
        return
    given: dict[int, list[DoseAdministration]] = {pk: [] for pk in ids}
    for dose in facts.doses_query(ids):
        given[dose.record_id].append(dose)
    counting: dict[int, list[VitalReading]] = {pk: [] for pk in ids}
    for reading in facts.live_vitals_query(ids):
        counting[reading.record_id].append(reading)
    rated: dict[int, list[DissociationRating]] = {pk: [] for pk in ids}
    for rating in facts.ratings_query(ids):
        rated[rating.record_id].append(rating)
    rechecks: dict[int, list[dt.datetime]] = {pk: [] for pk in ids}
    for record_id, raised_at in (
        SessionAlert.objects.filter(record_id__in=ids, grade=AlertGrade.RECHECK_IN_5_MINUTES.value)
        .order_by("raised_at")
        .values_list("record_id", "raised_at")
    ):
        rechecks[record_id].append(raised_at)
    for record in records:
        remember(facts.doses, given[record.pk], record)
        remember(facts.live_vitals, counting[record.pk], record)
        remember(facts.ratings, rated[record.pk], record)
        remember(recheck_times, rechecks[record.pk], record)


def schedule(record: ChairsideRecord, now: dt.datetime) -> MonitoringSchedule:
    return monitoring_schedule(
        dose=facts.dose_timing(record),
        vitals=[facts.core_reading(v) for v in facts.live_vitals(record) if v.taken_at <= now],
        dissociation=[facts.core_rating(r) for r in facts.ratings(record) if r.taken_at <= now],
        recheck_requested_at=[t for t in recheck_times(record) if t <= now],
        now=now,
        policy=monitoring_policy(),
    )


@dataclass(frozen=True)
class Console:
    record: ChairsideRecord
    pre_dose: PreDoseAssessment
    answers: dict[str, ChecklistAnswer]
    blood_pressure: PreDoseBloodPressureCheck | None
    proceed: ProceedDecision | None
    planned: SessionDose | None
    doses: list[DoseAdministration]
    vitals: list[VitalReading]  # struck ones too, shown struck
    ratings: list[DissociationRating]
    events: list[AdverseEvent]
    acknowledged: list[SessionAlert]
    discharge: DischargeSignoff | None
    addenda: list[SessionAddendum]
    draws: list[LedgerEntry]


def console(record: ChairsideRecord, now: dt.datetime) -> Console:
    baseline = facts.baseline_reading(record)
    bp, decision = facts.blood_pressure_check(record, baseline)
    return Console(
        record=record,
        pre_dose=facts.pre_dose_assessment(record, now),
        answers=facts.latest_answers(record),
        blood_pressure=bp,
        proceed=decision,
        planned=facts.planned_dose(record),
        doses=facts.doses(record),
        vitals=facts.every_reading(record),
        ratings=facts.ratings(record),
        events=list(record.adverse_events.select_related("recorded_by").order_by("onset_at")),
        acknowledged=acknowledged_alerts(record),
        discharge=DischargeSignoff.objects.filter(record=record)
        .select_related("signed_by")
        .first(),
        addenda=list(record.addenda.select_related("by").order_by("at", "pk")),
        draws=session_draws(record),
    )


@dataclass(frozen=True)
class ReadingsPanel:
    """The console's vital-signs list, polled every second: every reading, the monitor's feed,
    the monitor readings waiting for the nurse, and what became of the held ones."""

    vitals: list[VitalReading]
    unverified: list[VitalReading]
    confirmed: set[int]  # held readings the next monitor reading confirmed
    unconfirmed: set[int]  # held readings the next monitor reading did not confirm
    feed: FeedStatus
    version: str


def readings_panel(record: ChairsideRecord, now: dt.datetime) -> ReadingsPanel:
    rows = facts.every_reading(record)
    confirmed: set[int] = set()
    unconfirmed: set[int] = set()
    monitor = [r for r in rows if r.from_monitor and not r.is_struck]
    for held, after in pairwise(monitor):
        if held.is_held:
            (confirmed if after.device_verdict == DeviceVerdict.CONFIRMED else unconfirmed).add(
                held.pk
            )
    feed = feed_status(record.session.room_id, now)
    marks = [
        (r.pk, r.is_struck, hasattr(r, "verification"), r.pk in confirmed or r.pk in unconfirmed)
        for r in rows
    ]
    return ReadingsPanel(
        vitals=rows,
        unverified=[r for r in rows if not r.is_verified and not r.is_struck],
        confirmed=confirmed,
        unconfirmed=unconfirmed,
        feed=feed,
        version=f"{marks}-{feed.state}-{feed.device_label}",
    )


# --- what the console's posts look up -------------------------------------------------------


def witnesses(record: ChairsideRecord, *, besides: StaffUser) -> list[StaffUser]:
    """Who may witness a dose at this session's site: active clinical staff other than ``besides``
    (intake coordinators do not witness controlled substances)."""
    return list(
        StaffUser.objects.filter(
            is_active=True,
            role__in=[r.value for r in CLINICAL_ROLES - {Role.INTAKE_COORDINATOR}],
            sites=record.session.site_id,
        )
        .exclude(pk=besides.pk)
        .order_by("last_name", "first_name")
    )


def dose_change_decisions(record: ChairsideRecord) -> list[DoseChangeDecision]:
    return list(record.dose_change_decisions.select_related("prescriber"))


def dose_of(record: ChairsideRecord, dose_id: int) -> DoseAdministration | None:
    return DoseAdministration.objects.filter(pk=dose_id, record=record).first()


def alert_of(record: ChairsideRecord, alert_id: int) -> SessionAlert | None:
    return SessionAlert.objects.filter(pk=alert_id, record=record).first()


def reading_of(record: ChairsideRecord, reading_id: int) -> VitalReading | None:
    return VitalReading.objects.filter(pk=reading_id, record=record).first()
