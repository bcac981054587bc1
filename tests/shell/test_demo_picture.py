"""The demo clinic a new user works in, built once for this module (it takes seconds) and seen by
each test inside its own savepoint: measurement-based care at work, every booked session opening at
the chair side, signed records, integration notes and a balanced ledger behind the held sessions,
and a day board full in every phase at the moment the demo is loaded.

The demo is laid out on local clock hours (doses at 09:00, follow-ups through the day): it is built
as of yesterday's early afternoon so the picture does not depend on when CI runs."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.audit.models import AuditEntry
from kapstone.audit.trail import verify_chain
from kapstone.chairside import services as chairside
from kapstone.chairside.models import (
    AdverseEvent,
    ChairsideRecord,
    DischargeSignoff,
    DoseAdministration,
    SessionAlert,
)
from kapstone.chairside.selectors import dose_and_dissociation
from kapstone.clinical.day_board import DosingPhase, IntegrationPhase
from kapstone.clinical.ledger_entries import EntryKind
from kapstone.clinical.routes import Route
from kapstone.demo.generator import build_demo_clinic
from kapstone.dosing.models import DosingSession, SessionStatus
from kapstone.intake.selectors import signed_eligibility
from kapstone.integration import selectors as integration_selectors
from kapstone.integration.models import IntegrationNote, IntegrationSession, IntegrationStatus
from kapstone.integration.services import signing_warnings
from kapstone.ledger.models import DrawAccount, LedgerEntry, StockBalance
from kapstone.ledger.verify import verify_caches as ledger_caches
from kapstone.ledger.verify import verify_chain as ledger_chain
from kapstone.measures.models import MeasurementCarePlan
from kapstone.measures.selectors import schedule_for
from kapstone.outcomes.selectors import patient_outcomes
from kapstone.plans.selectors import signed_plan
from kapstone.rems.models import RemsForm
from kapstone.safety.models import DosingHold, SafetyAlert
from kapstone.today.selectors import day_board, tomorrow
from tests.conftest import kept_for_the_module


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker):
    """The demo, built once for the module's tests (tests.conftest.kept_for_the_module)."""
    now = timezone.make_aware(
        dt.datetime.combine(timezone.localdate() - dt.timedelta(days=1), dt.time(13, 30))
    )
    with kept_for_the_module(django_db_blocker):
        yield (
            build_demo_clinic(
                patients=14, seed=2026, today=timezone.localdate(now), history_until=now
            ),
            now,
        )


@pytest.fixture
def demo(built, db):
    return built


def phq9(patient, now):
    cards = [c for c in patient_outcomes(patient, now).cards if c.name == "PHQ-9"]
    return cards[0] if cards else None


def test_the_demo_history_shows_every_part_of_measurement_based_care(demo):
    clinic, now = demo

    # Trajectories: responders, remitters, non-responders, and exactly one relapse warning.
    outcomes = [c.outcome for p in clinic.patients if (c := phq9(p, now)) is not None]
    assert len(outcomes) >= 8
    assert any(o.response for o in outcomes)
    assert any(o.remission for o in outcomes)
    assert any(o.response is False and o.follow_up_count >= 2 for o in outcomes)
    assert sum(len(o.relapse_warnings) > 0 for o in outcomes) == 1
    assert all(0 <= o.latest.total <= 27 for o in outcomes)

    # One open alert, fresh enough not to have escalated; earlier ones acknowledged.
    (open_alert,) = SafetyAlert.objects.filter(acknowledgement__isnull=True)
    assert "PHQ-9" in open_alert.reason
    assert now - open_alert.raised_at < dt.timedelta(minutes=open_alert.escalate_after_minutes)
    assert SafetyAlert.objects.filter(acknowledgement__isnull=False).count() >= 2

    # A high C-SSRS at intake held dosing; sessions were booked only after the prescriber's review.
    hold = DosingHold.objects.get()
    assert not hold.is_active and hold.review.by.staff_role == "prescriber"
    sessions = list(hold.patient.dosing_sessions.all())
    assert sessions and all(s.booked_at >= hold.review.at for s in sessions)

    # A few measures were missed, so the work queue has something to chase.
    schedules = [schedule_for(p, now) for p in clinic.patients]
    assert sum(len(s.work_queue) for s in schedules if s is not None) > 0

    assert verify_chain()[1] is None

    # The ledger balances with the sessions: one closed draw per session held, given equal to its
    # dose and everything else witnessed waste, and each safe's book what was received less drawn.
    # Esketamine is drawn and given as whole nasal devices; today's day-board patients (KAP-91xx)
    # are mid-session, their draws still open.
    held = (
        DosingSession.objects.filter(starts_at__lte=now)
        .exclude(status="cancelled")
        .exclude(patient__mrn__startswith="KAP-91")
    )
    accounts = DrawAccount.objects.select_related("draw__dosing_session").exclude(
        draw__dosing_session__patient__mrn__startswith="KAP-91"
    )
    assert sorted(a.draw.dosing_session_id for a in accounts) == sorted(s.pk for s in held)
    for account in accounts:
        assert account.closed and account.given + account.wasted == account.drawn
        assert account.draw.witness_id is None  # the draw itself; the waste is witnessed
    wastes = LedgerEntry.objects.filter(kind="waste")
    # Solution left in the syringe is wasted; sealed devices are given whole, nothing to waste.
    assert wastes.count() == sum(1 for a in accounts if a.wasted) > 0
    assert all(w.witness_id for w in wastes)
    received = sum(e.quantity for e in LedgerEntry.objects.filter(kind="receipt"))
    drawn = sum(a.drawn for a in DrawAccount.objects.all())
    assert sum(b.balance for b in StockBalance.objects.all()) == received - drawn > 0
    assert ledger_chain()[1] is None and ledger_caches() is None


def test_every_booked_session_opens_at_the_chair_side(demo):
    _, now = demo
    booked = list(DosingSession.objects.filter(status=SessionStatus.BOOKED).order_by("pk"))
    assert len(booked) > 10
    nurse = StaffUser.objects.get(username="nurse")
    for session in booked:
        assert session.plan is not None and session.route == session.plan.route
        record = chairside.open_record(by=nurse, session=session, now=now)
        assert record.route == session.route


def test_history_patients_have_signed_intakes_and_plans_and_some_dose_esketamine(demo):
    clinic, _ = demo
    with_sessions = [p for p in clinic.patients if p.dosing_sessions.exists()]
    assert len(with_sessions) >= 8
    for patient in with_sessions:
        assert signed_eligibility(patient) is not None, patient.mrn
        plan = signed_plan(patient)
        assert plan is not None and plan.plan.consent_at is not None, patient.mrn
    routes = {signed_plan(p).route for p in with_sessions}  # type: ignore[union-attr]
    assert {Route.IV, Route.INTRANASAL_ESKETAMINE} <= routes
    # Held esketamine sessions are charted and signed, so the REMS queue has their forms.
    assert RemsForm.objects.exists()
    assert verify_chain()[1] is None


def test_the_day_board_is_full_at_load_time(demo):
    _, now = demo
    nurse = StaffUser.objects.get(username="nurse")
    board = day_board(user=nurse, now=now)
    rows = [row for site in board.sites for row in site.dosing]
    phases = {row.phase.phase for row in rows}
    assert phases >= {
        DosingPhase.BOOKED,
        DosingPhase.ARRIVED,
        DosingPhase.CHECKLIST,
        DosingPhase.DOSING,
        DosingPhase.OBSERVATION,
        DosingPhase.READY_FOR_DISCHARGE,
        DosingPhase.DISCHARGED,
    }
    assert len(board.sites) == 2
    assert any(
        r.next_check_minutes is not None for r in rows if r.phase.phase is DosingPhase.DOSING
    )
    assert any(r.escort_ok is False for r in rows)
    assert any(r.console_url for r in rows)
    integration = {row.phase.phase for site in board.sites for row in site.integration}
    assert {IntegrationPhase.WAITING, IntegrationPhase.IN_SESSION} <= integration
    assert len(tomorrow(user=nurse, now=now)) >= 2


def test_every_held_retreat_dose_has_a_signed_integration_note(demo):
    clinic, now = demo
    retreats = {
        plan.patient_id
        for plan in MeasurementCarePlan.objects.filter(superseded_by__isnull=True)
        if plan.plan == "intensive-retreat"
    }
    held = DosingSession.objects.filter(
        patient_id__in=retreats, starts_at__lte=now - dt.timedelta(hours=6)
    ).exclude(status=SessionStatus.CANCELLED)
    # Today's day-board patients (KAP-91xx) have integration booked after today's dose, not held.
    sessions = IntegrationSession.objects.exclude(patient__mrn__startswith="KAP-91")
    assert held.count() > 20
    assert sessions.count() == held.count()
    assert set(sessions.values_list("dosing_session_id", flat=True)) == set(
        held.values_list("pk", flat=True)
    )
    assert not sessions.exclude(status=IntegrationStatus.COMPLETED).exists()
    for note in IntegrationNote.objects.select_related("session", "dosing_session", "author"):
        assert note.signature.signed_by == note.author == note.session.therapist
        assert (
            dt.timedelta(0) < note.held_at - note.dosing_session.starts_at <= dt.timedelta(hours=24)
        )
        assert 60 <= note.minutes <= 90
        assert note.structured["homework"]
        assert signing_warnings(note) == ()
    # Somebody's EMDR course shows SUD falling from its first to its last session.
    falling = []
    for patient in clinic.patients:
        rows = [
            r
            for r in integration_selectors.course_trend(patient)
            if r.measures.sud_before is not None
        ]
        if len(rows) >= 4:
            falling.append(rows[-1].measures.sud_before < rows[0].measures.sud_before)
            assert rows[-1].measures.voc_before >= rows[0].measures.voc_before - 1
    assert falling and any(falling)


def test_every_held_demo_session_has_a_signed_chairside_record(demo):
    _, now = demo

    held = DosingSession.objects.filter(ends_at__lte=now).exclude(status=SessionStatus.CANCELLED)
    assert held.count() > 10
    assert set(held.values_list("status", flat=True)) == {SessionStatus.COMPLETED}
    records = ChairsideRecord.objects.filter(session__in=held)
    assert records.count() == held.count()
    assert not records.filter(signed_at__isnull=True).exists()
    assert DischargeSignoff.objects.filter(record__in=records).count() == records.count()
    assert AuditEntry.objects.filter(action="chairside.signed").count() == records.count()

    # The dose on the chart is the ledger's 'administered' entry, linked to it.
    for entry in LedgerEntry.objects.filter(kind=EntryKind.ADMINISTERED, dosing_session__in=held):
        dose = entry.dosing_session.chairside.doses.get()
        assert dose.ledger_entry == entry
        assert dose.dose_mg == entry.lot.product.milligrams(entry.quantity)  # µg or devices

    # Vitals at the protocol's cadence; a few alerts, each graded by the core and acknowledged.
    record = records.first()
    assert record.vitals.count() >= 6 and record.vitals.filter(is_baseline=True).count() == 1
    alerts = SessionAlert.objects.filter(record__in=records)
    assert alerts.exists() and not alerts.filter(acknowledgement__isnull=True).exists()
    assert AdverseEvent.objects.filter(record__in=records).exists()
    facts = dose_and_dissociation(held.values_list("pk", flat=True))
    assert all(f.dissociation_scale == "cadss_6" and f.dissociation_score for f in facts.values())

    assert verify_chain()[1] is None

    # One entry for each dose: every charted dose is a 'given' entry of the same amount, every
    # draw of a signed session is closed, and `kapstone verify_ledger` agrees.
    doses = DoseAdministration.objects.filter(record__in=records).select_related(
        "ledger_entry__lot__product"
    )
    assert doses.count() == records.count()
    for dose in doses:
        entry = dose.ledger_entry
        assert entry.kind == EntryKind.ADMINISTERED
        assert entry.lot.product.milligrams(entry.quantity) == dose.dose_mg
    assert not DrawAccount.objects.filter(draw__dosing_session__in=held, closed=False).exists()
    out = io.StringIO()
    call_command("verify_ledger", stdout=out)
    assert "every charted dose with its 'given' entry" in out.getvalue()
