"""Issue 15, point 7: a dosing session booked by hand keeps the scheduler's guard rails (the plan's
route and number of sessions, a room equipped and free, opening hours and closures) and books its
integration session in the same transaction; every problem is given at once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from kapstone.accounts.models import Room
from kapstone.chairside import services as chairside
from kapstone.dosing.models import DosingSession
from kapstone.errors import InputError
from kapstone.integration.models import IntegrationSession
from kapstone.plans.selectors import signed_plan
from kapstone.timetable.models import Closure, OpeningHours
from kapstone.timetable.services import IntegrationRequest, book_by_hand
from tests.conftest import make_patient
from tests.shell.chairside_support import signed_plan_for


def next_weekday(weekday: int, hour: int, minute: int = 0) -> dt.datetime:
    today = timezone.localdate()
    day = today + dt.timedelta(days=(weekday - today.weekday()) % 7 or 7)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


@pytest.fixture
def calendar(clinic):
    site = clinic.on_team.home_site
    for weekday in range(5):  # Monday to Friday, 08:00-18:00
        OpeningHours.objects.create(site=site, weekday=weekday, opens="08:00", closes="18:00")
    chair = Room.objects.create(site=site, name="Chair 1", routes=["iv"])
    spray = Room.objects.create(site=site, name="Room B", routes=["intranasal_esketamine"])
    return site, chair, spray


def talk(starts: dt.datetime, therapist, modality: str = "ifs") -> IntegrationRequest:
    return IntegrationRequest(
        starts_at=starts, duration=dt.timedelta(minutes=90), therapist=therapist, modality=modality
    )


def test_a_booking_by_hand_books_the_dose_and_its_integration_together(clinic, calendar):
    _, chair, _ = calendar
    plan = signed_plan_for(clinic)
    starts = next_weekday(1, 9)
    dosing, integration = book_by_hand(
        by=clinic.staff["prescriber"],
        patient=clinic.on_team,
        starts_at=starts,
        duration=dt.timedelta(hours=2),
        room=chair,
        integration=talk(starts + dt.timedelta(hours=4), clinic.staff["therapist"]),
    )
    assert (dosing.plan, dosing.route, dosing.room) == (plan, "iv", chair)
    assert integration is not None and integration.dosing_session == dosing
    assert integration.modality == "ifs"
    # Booked with the plan and its route, the session opens at the chair side (issue 15, point 12).
    record = chairside.open_record(by=clinic.staff["nurse"], session=dosing)
    assert record.route == "iv"


def test_every_problem_is_given_at_once_and_nothing_is_booked(clinic, calendar):
    site, _, spray = calendar
    signed_plan_for(clinic)
    saturday = next_weekday(5, 10)
    with pytest.raises(InputError) as refused:
        book_by_hand(
            by=clinic.staff["prescriber"],
            patient=clinic.on_team,
            starts_at=saturday,
            duration=dt.timedelta(hours=2),
            room=spray,
            integration=talk(saturday + dt.timedelta(hours=1), None, modality="somatic"),
        )
    errors = refused.value.errors
    assert errors["room"] == [
        "Room B is not equipped for Intravenous infusion (racemic ketamine), the plan's route: "
        "choose a room that is."
    ]
    assert errors["starts_at"] == [f"{site.name} is closed on Saturdays."]
    assert "starts after the dosing session ends" in errors["integration_starts_at"][0]
    assert errors["therapist"] == ["Choose the therapist for the integration session."]
    assert "Choose one of the plan's confirmed modalities" in errors["modality"][0]
    assert not DosingSession.objects.exists() and not IntegrationSession.objects.exists()


def test_closures_hours_and_a_room_still_being_cleaned_are_refused(clinic, calendar):
    site, chair, _ = calendar
    signed_plan_for(clinic)
    tuesday = next_weekday(1, 9)
    Closure.objects.create(site=site, day=tuesday.date(), reason="Staff training")
    with pytest.raises(InputError) as refused:
        book_by_hand(
            by=clinic.staff["prescriber"],
            patient=clinic.on_team,
            starts_at=tuesday,
            duration=dt.timedelta(hours=2),
            room=chair,
            integration=None,
        )
    assert refused.value.errors["starts_at"] == [
        f"{site.name} is closed on {timezone.localtime(tuesday):%A %-d %B %Y} (Staff training)."
    ]
    wednesday = next_weekday(2, 17)
    with pytest.raises(InputError) as refused:
        book_by_hand(
            by=clinic.staff["prescriber"],
            patient=clinic.on_team,
            starts_at=wednesday,
            duration=dt.timedelta(hours=2),
            room=chair,
            integration=None,
        )
    assert refused.value.errors["starts_at"] == [
        f"{site.name} is open 08:00–18:00 on Wednesdays; this session would run 17:00–19:00."
    ]
    other = DosingSession.objects.create(
        patient=make_patient(by=clinic.staff["prescriber"], mrn="KAP-8801", site=site),
        site=site,
        room=chair,
        route="iv",
        starts_at=next_weekday(3, 9),
        ends_at=next_weekday(3, 11),
        booked_at=timezone.now(),
    )
    with pytest.raises(InputError) as refused:
        book_by_hand(
            by=clinic.staff["prescriber"],
            patient=clinic.on_team,
            starts_at=other.ends_at + dt.timedelta(minutes=10),  # turnover is 15 minutes
            duration=dt.timedelta(hours=2),
            room=chair,
            integration=None,
        )
    assert refused.value.errors["room"] == [
        "Chair 1 is taken 09:00–11:00 that day, with 15 minutes to clean it after."
    ]


def test_no_more_sessions_than_the_plan_and_none_without_a_signed_plan(clinic, calendar):
    _, chair, _ = calendar
    with pytest.raises(InputError) as refused:
        book_by_hand(
            by=clinic.staff["prescriber"],
            patient=clinic.on_team,
            starts_at=next_weekday(0, 9),
            duration=dt.timedelta(hours=2),
            room=chair,
            integration=None,
        )
    assert "has no signed treatment plan" in refused.value.errors[""][0]
    plan = signed_plan_for(clinic)
    total = signed_plan(clinic.on_team).sessions
    for n in range(total):
        DosingSession.objects.create(
            patient=clinic.on_team,
            site=chair.site,
            plan=plan,
            route="iv",
            starts_at=timezone.now() + dt.timedelta(days=30 + n),
            ends_at=timezone.now() + dt.timedelta(days=30 + n, hours=2),
            booked_at=timezone.now(),
        )
    with pytest.raises(InputError) as refused:
        book_by_hand(
            by=clinic.staff["prescriber"],
            patient=clinic.on_team,
            starts_at=next_weekday(0, 9),
            duration=dt.timedelta(hours=2),
            room=chair,
            integration=None,
        )
    assert refused.value.errors[""] == [
        f"All {total} dosing sessions of the signed plan are booked or held already; the "
        "prescriber amends the plan for more."
    ]


def test_the_booking_page_books_both_sessions(clinic, calendar, as_role):
    _, chair, _ = calendar
    signed_plan_for(clinic)
    client = as_role("prescriber")
    starts = timezone.localtime(next_weekday(1, 9))
    page = client.get(reverse("dosing:book", args=[clinic.on_team.pk])).content.decode()
    assert "Chair 1" in page and "Room B" not in page  # only rooms equipped for the route
    response = client.post(
        reverse("dosing:book", args=[clinic.on_team.pk]),
        {
            "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": 150,
            "room": chair.pk,
            "book_integration": "on",
            "integration_starts_at": (starts + dt.timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M"),
            "integration_minutes": 90,
            "therapist": clinic.staff["therapist"].pk,
            "modality": "ifs",
        },
    )
    assert response.status_code == 302
    session = DosingSession.objects.get()
    assert session.ends_at - session.starts_at == dt.timedelta(minutes=150)
    assert IntegrationSession.objects.get().dosing_session == session
