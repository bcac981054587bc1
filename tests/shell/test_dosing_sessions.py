"""Booking and cancelling dosing sessions: clear refusals, nothing half-written, every change audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from kapstone.audit.models import AuditEntry
from kapstone.dosing.models import DosingSession, SessionStatus
from kapstone.dosing.selectors import dosing_times
from kapstone.dosing.services import book_dosing_session, cancel_dosing_session, complete_session
from kapstone.errors import InputError


def test_booking_checks_time_length_and_clashes(clinic):
    now = timezone.now()
    nurse = clinic.staff["nurse"]
    with pytest.raises(InputError) as refused:
        book_dosing_session(
            by=nurse,
            patient=clinic.on_team,
            starts_at=now - dt.timedelta(days=1),
            duration=dt.timedelta(minutes=10),
        )
    assert refused.value.errors == {
        "starts_at": ["A session cannot be booked in the past."],
        "duration": ["A dosing session lasts from 30 minutes to 6 hours, including observation."],
    }
    first = book_dosing_session(
        by=nurse, patient=clinic.on_team, starts_at=now + dt.timedelta(days=1)
    )
    assert first.site == clinic.on_team.home_site
    assert first.ends_at - first.starts_at == dt.timedelta(hours=2)
    with pytest.raises(InputError, match="already has a session booked"):
        book_dosing_session(
            by=nurse, patient=clinic.on_team, starts_at=now + dt.timedelta(days=1, hours=1)
        )
    assert DosingSession.objects.count() == 1
    entry = AuditEntry.objects.get(action="dosing.session_booked")
    assert entry.actor == nurse and entry.patient == clinic.on_team


def test_a_cancelled_session_keeps_its_row_and_reason_and_no_longer_counts(clinic):
    starts = timezone.now() + dt.timedelta(days=3)
    session = book_dosing_session(
        by=clinic.staff["nurse"], patient=clinic.on_team, starts_at=starts
    )
    assert dosing_times(clinic.on_team) == [session.starts_at]
    with pytest.raises(InputError, match="Say why"):
        cancel_dosing_session(by=clinic.staff["nurse"], session=session, reason=" ")
    cancel_dosing_session(by=clinic.staff["nurse"], session=session, reason="Patient unwell")
    session.refresh_from_db()
    assert session.status == SessionStatus.CANCELLED and session.cancel_reason == "Patient unwell"
    assert dosing_times(clinic.on_team) == []
    with pytest.raises(InputError, match="Only a booked session"):
        cancel_dosing_session(by=clinic.staff["nurse"], session=session, reason="again")


def test_booking_from_the_chart_needs_a_signed_plan(clinic, as_role):
    # Booking from the chart with every guard rail: tests/shell/test_booking_by_hand.py.
    client = as_role("prescriber")
    starts = timezone.localtime(timezone.now() + dt.timedelta(days=5)).replace(
        hour=9, minute=30, second=0, microsecond=0
    )
    page = client.get(reverse("dosing:book", args=[clinic.on_team.pk])).content.decode()
    assert "There is no signed treatment plan yet" in page
    response = client.post(
        reverse("dosing:book", args=[clinic.on_team.pk]),
        {"starts_at": starts.strftime("%Y-%m-%dT%H:%M"), "duration_minutes": 150},
    )
    assert response.status_code == 200
    assert "Choose the room or chair." in response.content.decode()
    assert not DosingSession.objects.exists()


def test_a_placed_session_keeps_its_room_staff_and_route_and_refuses_a_room_not_equipped(clinic):
    from kapstone.accounts.models import Room

    site = clinic.sites[0]
    infusion = Room.objects.create(site=site, name="Chair 1", routes=["iv"])
    observation = Room.objects.create(site=site, name="Room B", routes=["intranasal_esketamine"])
    starts = timezone.now() + dt.timedelta(days=2)
    with pytest.raises(InputError) as refused:
        book_dosing_session(
            by=clinic.staff["prescriber"],
            patient=clinic.on_team,
            starts_at=starts,
            route="iv",
            room=observation,
        )
    assert refused.value.errors == {
        "room": ["Room B is not equipped for Intravenous infusion (racemic ketamine)."]
    }
    with pytest.raises(InputError, match="Unknown route"):
        book_dosing_session(
            by=clinic.staff["prescriber"], patient=clinic.on_team, starts_at=starts, route="nasal"
        )
    assert not DosingSession.objects.exists()
    session = book_dosing_session(
        by=clinic.staff["prescriber"],
        patient=clinic.on_team,
        starts_at=starts,
        route="iv",
        room=infusion,
        nurse=clinic.staff["nurse"],
        prescriber=clinic.staff["prescriber"],
    )
    session.refresh_from_db()
    assert (session.room, session.site, session.route) == (infusion, site, "iv")
    assert (session.nurse, session.prescriber) == (
        clinic.staff["nurse"],
        clinic.staff["prescriber"],
    )
    after = AuditEntry.objects.get(action="dosing.session_booked").after
    assert after["room"] == infusion.pk and after["route"] == "iv"


# --- completing a session: the dosing app's own service, called as a chair-side record is signed --


def _signed_at_the_chair(clinic):  # type: ignore[no-untyped-def]
    """A dose charted, the patient discharged and the draw reconciled; then the record signed."""
    from decimal import Decimal

    from kapstone.chairside import services as chairside
    from kapstone.clinical.discharge import DischargeChecklist
    from tests.shell.chairside_support import at, ready_to_dose, reconcile

    record = ready_to_dose(clinic)
    nurse = clinic.staff["nurse"]
    session = record.session
    chairside.give_dose(
        by=nurse,
        record=record,
        dose_mg=Decimal(35),
        started_at=at(session, 10),
        stopped_at=at(session, 50),
    )
    chairside.discharge(
        by=nurse,
        record=record,
        checklist=DischargeChecklist(True, True, True, True, True),
        override_reason="Observation ends in minutes; partner present",
    )
    reconcile(record)
    assert DosingSession.objects.get(pk=session.pk).status == SessionStatus.BOOKED
    chairside.sign_record(by=nurse, record=record)
    return record


def test_signing_the_chair_side_record_completes_the_session_through_the_dosing_service(clinic):
    record = _signed_at_the_chair(clinic)
    session = DosingSession.objects.get(pk=record.session_id)
    assert session.status == SessionStatus.COMPLETED
    # The dosing app's own audit row (only complete_session writes it), in the signature's
    # transaction: right before the chair-side entry, by the same nurse, for the same patient.
    completed = AuditEntry.objects.get(action="dosing.session_completed")
    signed = AuditEntry.objects.get(action="chairside.signed")
    assert (
        completed.object_id == str(session.pk) and completed.object_type == "dosing.dosingsession"
    )
    assert completed.actor == signed.actor == clinic.staff["nurse"]
    assert completed.patient == signed.patient == clinic.on_team
    assert (completed.before, completed.after) == ({"status": "booked"}, {"status": "completed"})
    assert signed.seq == completed.seq + 1
    assert signed.after["session_status"] == SessionStatus.COMPLETED


def test_completing_changes_only_a_booked_session_and_records_only_a_change(clinic):
    nurse = clinic.staff["nurse"]
    session = book_dosing_session(
        by=nurse, patient=clinic.on_team, starts_at=timezone.now() + dt.timedelta(days=2)
    )
    assert complete_session(by=nurse, session=session).status == SessionStatus.COMPLETED
    # Completing again (a second signature racing the first) changes nothing and adds no row.
    assert complete_session(by=nurse, session=session).status == SessionStatus.COMPLETED
    assert AuditEntry.objects.filter(action="dosing.session_completed").count() == 1

    cancelled = book_dosing_session(
        by=nurse, patient=clinic.on_team, starts_at=timezone.now() + dt.timedelta(days=4)
    )
    cancel_dosing_session(by=nurse, session=cancelled, reason="Patient unwell")
    assert complete_session(by=nurse, session=cancelled).status == SessionStatus.CANCELLED
    assert AuditEntry.objects.filter(action="dosing.session_completed").count() == 1


def test_a_completion_rolled_back_with_its_caller_leaves_the_session_booked_and_unaudited(clinic):
    from django.db import transaction

    nurse = clinic.staff["nurse"]
    session = book_dosing_session(
        by=nurse, patient=clinic.on_team, starts_at=timezone.now() + dt.timedelta(days=2)
    )
    audit_rows = AuditEntry.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        complete_session(by=nurse, session=session)
        raise RuntimeError("the caller's transaction fails after the completion")
    session.refresh_from_db()
    assert session.status == SessionStatus.BOOKED
    assert AuditEntry.objects.count() == audit_rows
