"""The demo clinic a new user can work in: every booked session opens at the chair side, history
patients have signed intakes and plans, esketamine patients fill the REMS queue, and the day board
is full, in every phase, at the moment the demo is loaded."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.audit.trail import verify_chain
from kapstone.chairside import services as chairside
from kapstone.clinical.day_board import DosingPhase, IntegrationPhase
from kapstone.clinical.routes import Route
from kapstone.demo.generator import build_demo_clinic
from kapstone.dosing.models import DosingSession, SessionStatus
from kapstone.intake.selectors import signed_eligibility
from kapstone.plans.selectors import signed_plan
from kapstone.rems.models import RemsForm
from kapstone.today.selectors import day_board, tomorrow


@pytest.fixture
def demo(db):
    # Laid out on local clock hours: build it as of yesterday's early afternoon, as the history
    # test does, so the picture does not depend on when CI runs.
    now = timezone.make_aware(
        dt.datetime.combine(timezone.localdate() - dt.timedelta(days=1), dt.time(13, 30))
    )
    clinic = build_demo_clinic(
        patients=14, seed=2026, today=timezone.localdate(now), history_until=now
    )
    return clinic, now


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


@pytest.mark.parametrize("clock", [dt.time(23, 50), dt.time(0, 30)], ids=["before", "after"])
def test_the_demo_loads_at_any_hour_even_around_midnight(db, clock):
    """`make run` (and CI) may load the demo at any time: a board laid out around the load time
    crosses local midnight, and every session must still be checked in and charted on its own day."""
    # Yesterday's clock (always in the past: the services refuse times still to come).
    now = timezone.make_aware(
        dt.datetime.combine(timezone.localdate() - dt.timedelta(days=1), clock)
    )
    clinic = build_demo_clinic(
        patients=14, seed=2026, today=timezone.localdate(now), history_until=now
    )
    assert clinic.patients
