"""Today on the demo's day board: patients in every phase of a dosing session, relative to the moment
the demo is loaded, so ``make run`` opens on a full board.

Each patient has a signed intake and plan; the session is booked on the plan (days ago, through the
booking service), and what has happened so far is charted through the chair-side services at the
times it happened: a check-in at the front desk, the pre-dose checklist, a baseline, the dose with
its ledger draw, vitals on the protocol's cadence, a discharge. Every session still runs past the
load time (so it is not a held session for the history's charting and signing), integration
sessions follow two of the doses, and the rest of each course is booked (two patients come back
tomorrow).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from kapstone.accounts.models import Room, Site, StaffUser
from kapstone.chairside import facts
from kapstone.chairside import services as chairside
from kapstone.chairside.models import ChairsideRecord
from kapstone.clinical.discharge import DischargeChecklist
from kapstone.clinical.routes import Route
from kapstone.demo.courses import (
    FrontDesk,
    SyntheticPatient,
    ready_to_dose,
    register_synthetic,
)
from kapstone.dosing.models import DosingSession
from kapstone.dosing.services import book_dosing_session
from kapstone.integration.services import book_integration_session
from kapstone.ledger.models import StockBalance
from kapstone.ledger.services import draw_for_session
from kapstone.patients.models import Patient, ReferralSource, SexAtBirth
from kapstone.today.services import check_in

M = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class DayPatient(SyntheticPatient):
    room: str
    starts: int  # minutes from the load time
    minutes: int  # booked length
    phase: str  # how far the session has got: booked, arrived, checklist, dosing, observation,
    # ready, discharged
    nurse: str
    tomorrow: int | None = None  # the hour of tomorrow's session, if any


DAY_DESK = FrontDesk(
    mrn=9101,
    phone=7300,
    number=30,
    street="Fore St, Portland, ME",
    contact=("Alex", "spouse"),
    referral=(ReferralSource.PRIMARY_CARE, "Dr. Nina Holt"),
    weight_kg=Decimal("70.0"),
    height_cm=Decimal("170.0"),
)
DAY = (
    DayPatient("Ruth", "Okonkwo", SexAtBirth.FEMALE, dt.date(1968, 2, 11), 0, Route.IV,
               "IV chair 1", -150, 240, "discharged", "nurse"),
    DayPatient("Henrik", "Lund", SexAtBirth.MALE, dt.date(1981, 6, 3), 0, Route.IV,
               "IV chair 2", -75, 180, "observation", "nurse", tomorrow=9),
    DayPatient("Camila", "Reyes", SexAtBirth.FEMALE, dt.date(1959, 10, 22), 0, Route.IM,
               "Observation room A", -130, 135, "ready", "nurse"),
    DayPatient("Tobias", "Wren", SexAtBirth.MALE, dt.date(1990, 1, 5), 0, Route.IM,
               "Observation room A", 15, 120, "arrived", "nurse"),
    DayPatient("Aisha", "Rahman", SexAtBirth.FEMALE, dt.date(1962, 8, 30), 1, Route.IV,
               "IV chair 1", -30, 180, "dosing", "nurse2", tomorrow=10),
    DayPatient("Elliot", "Marsh", SexAtBirth.MALE, dt.date(1977, 4, 17), 1,
               Route.INTRANASAL_ESKETAMINE, "Observation room", -5, 150, "checklist", "nurse2"),
    DayPatient("Greta", "Holm", SexAtBirth.FEMALE, dt.date(1955, 12, 1), 0, Route.IV,
               "IV chair 2", 120, 120, "booked", "nurse"),
)  # fmt: skip
PHASES = ("booked", "arrived", "checklist", "dosing", "observation", "ready", "discharged")


def _course_days(who: DayPatient, sessions: int) -> list[int]:
    """Days after today of the course's other sessions: tomorrow for those coming back tomorrow,
    then every second or third day."""
    first = 1 if who.tomorrow is not None else 2
    return [first + round(k * 2.5) for k in range(sessions - 1)]


def _midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _reached(who: DayPatient, phase: str) -> bool:
    return PHASES.index(who.phase) >= PHASES.index(phase)


def _register(
    n: int, who: DayPatient, site: Site, staff: dict[str, StaffUser], now: dt.datetime
) -> Patient:
    prescriber = staff["prescriber" if who.site == 0 else "prescriber2"]
    # Not "therapist": the scheduling demo gives her a sick day, counted from her first session.
    therapist = staff["therapist3" if who.site == 0 else "therapist2"]
    return register_synthetic(
        who,
        n,
        desk=DAY_DESK,
        by=staff["intake"],
        site=site,
        care_team={"prescriber": prescriber, "therapist": therapist, "nurse": staff[who.nurse]},
        measured_on=timezone.localdate(now) - dt.timedelta(days=10),
    )


def _draw(session: DosingSession, nurse: StaffUser, dose_mg: Decimal, at: dt.datetime) -> None:
    """The dose drawn from the site's safe, to the next 5 mg mark plus one, as the ledger does."""
    stock = (
        StockBalance.objects.filter(
            location__site=session.site, lot__product__substance="ketamine", balance__gt=0
        )
        .select_related("location", "lot")
        .order_by("pk")
        .first()
    )
    if stock is None:
        return  # a demo without a ledger (no history)
    location, lot = stock.location, stock.lot
    drawn_mg = (math.ceil(dose_mg / 5) + 1) * 5
    draw_for_session(
        by=nurse, session=session, location=location, lot=lot, quantity=drawn_mg * 1000, now=at
    )


def _vitals(record: ChairsideRecord, nurse: StaffUser, at: dt.datetime, k: int) -> None:
    chairside.record_vitals(
        by=nurse,
        record=record,
        taken_at=at,
        systolic=118 + (k * 3) % 9,
        diastolic=76 + (k * 2) % 5,
        heart_rate=70 + k % 6,
        spo2=98,
        respiratory_rate=14,
        sedation="alert",
        now=at,
    )


def _chart(who: DayPatient, session: DosingSession, nurse: StaffUser, now: dt.datetime) -> None:
    t0 = session.starts_at
    record = chairside.open_record(by=nurse, session=session, now=min(t0 - 5 * M, now - M))
    opened = record.opened_at
    chairside.answer_checklist(
        by=nurse,
        record=record,
        identity_confirmed=True,
        fasting_confirmed=True,
        escort_confirmed=who.phase != "checklist",  # this one's ride home is not here yet
        pregnancy_status="not_pregnant" if who.sex == SexAtBirth.FEMALE else "",
        weight_kg=Decimal("70.0"),
        now=opened + M,
    )
    if not _reached(who, "dosing"):
        return
    _vitals(record, nurse, opened + 2 * M, 0)
    planned = facts.planned_dose(record)
    assert planned is not None
    start = opened + 8 * M
    _draw(session, nurse, planned.dose_mg, start - 3 * M)
    iv = who.route is Route.IV
    infusion = dt.timedelta(minutes=int(planned.minutes or 40))
    stop = start + infusion if iv and _reached(who, "observation") else None
    chairside.give_dose(
        by=nurse,
        record=record,
        dose_mg=planned.dose_mg,
        started_at=start,
        stopped_at=stop,
        concentration_mg_per_ml=record.session.plan.concentration_mg_per_ml
        if record.session.plan
        else None,
        rate_ml_per_hour=planned.rate_ml_per_hour if iv else None,
        now=stop or start,
    )
    # Vitals every 15 minutes from the dose, up to the load time (or the discharge).
    end = now - 2 * M
    k, at = 1, start + 15 * M
    while at <= end and (who.phase != "discharged" or at <= now - 25 * M):
        _vitals(record, nurse, at, k)
        k, at = k + 1, at + 15 * M
    if who.phase == "discharged":
        chairside.discharge(
            by=nurse,
            record=record,
            checklist=DischargeChecklist(True, True, True, True, True),
            override_reason="Settled and steady on standing; partner here to drive home.",
            now=now - 20 * M,
        )


def build_day(*, sites: list[Site], staff: dict[str, StaffUser], now: dt.datetime) -> list[Patient]:
    """Today's board (and two of tomorrow's sessions); the patients, in the order of ``DAY``."""
    today = timezone.localdate(now)
    created = []
    for n, who in enumerate(DAY):
        site = sites[who.site % len(sites)]
        patient = _register(n, who, site, staff, now)
        prescriber, therapist = patient.prescriber, patient.therapist
        nurse = staff[who.nurse]
        assert prescriber is not None and therapist is not None
        signed_at = now - dt.timedelta(days=6)
        plan = ready_to_dose(
            patient,
            route=who.route,
            screened_at=signed_at,
            planned_at=signed_at + dt.timedelta(hours=1),
        )
        room = Room.objects.filter(site=site, name=who.room).first()
        booked_at = now - dt.timedelta(days=3)
        session = book_dosing_session(
            by=staff["intake"],
            patient=patient,
            starts_at=now + who.starts * M,
            duration=who.minutes * M,
            plan=plan,
            route=plan.route,
            room=room,
            nurse=nurse,
            prescriber=prescriber,
            now=booked_at,
        )
        # The rest of the course, so the plan is fully booked (nothing left for the scheduler).
        for day in _course_days(who, plan.program.as_template().dosing_sessions):
            book_dosing_session(
                by=staff["intake"],
                patient=patient,
                starts_at=timezone.make_aware(
                    dt.datetime.combine(today + dt.timedelta(days=day), dt.time(who.tomorrow or 9))
                ),
                plan=plan,
                route=plan.route,
                # Room and staff are left to the scheduler (and the week it plans stays free).
                now=booked_at,
            )
        if _reached(who, "arrived"):
            check_in(
                by=staff["intake"],
                session=session,
                # On the session's own day, even when the load time sits near midnight.
                now=max(
                    session.starts_at - 15 * M, _midnight(timezone.localdate(session.starts_at))
                ),
            )
        if _reached(who, "checklist"):
            _chart(who, session, nurse, now)
        if who.phase in ("discharged", "ready"):
            # Integration after the dose: under way for the discharged patient, waiting for the other.
            book_integration_session(
                by=staff["intake"],
                patient=patient,
                starts_at=now + (-10 if who.phase == "discharged" else 40) * M,
                therapist=therapist,
                modality=plan.modality_values[0] if plan.modality_values else "",
                dosing_session=session,
                site=site,
                now=booked_at,
            )
        created.append(patient)
    return created
