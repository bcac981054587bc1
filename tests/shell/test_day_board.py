"""The day board (/today/): today's sessions with their phases, check-in at the front desk, the
polled fragment that answers 204 while nothing changed, tomorrow's missing items, and the home page
for those who work the floor."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone

from kapstone.audit.models import AuditEntry
from kapstone.chairside import services as chairside
from kapstone.dosing.models import DosingSession
from kapstone.dosing.services import cancel_dosing_session
from kapstone.errors import InputError
from kapstone.safety.services import raise_alert
from kapstone.today.models import Arrival
from kapstone.today.selectors import day_board, tomorrow
from kapstone.today.services import check_in
from tests.conftest import daytime_zone
from tests.shell.chairside_support import signed_plan_for

M = dt.timedelta(minutes=1)


def _session(patient, *, minutes_from_now: int, plan=None) -> DosingSession:  # type: ignore[no-untyped-def]
    # Created directly: booking refuses the past, and these start a little before the test.
    starts = timezone.now() + minutes_from_now * M
    return DosingSession.objects.create(
        patient=patient,
        site=patient.home_site,
        plan=plan,
        route="iv",
        starts_at=starts,
        ends_at=starts + 2 * 60 * M,
        booked_at=starts - dt.timedelta(days=2),
    )


@pytest.fixture
def today(clinic):  # type: ignore[no-untyped-def]
    # Sessions from 10 minutes ago to a few hours ahead are today's at any hour of the run in a
    # zone where it is daytime (these tests skipped from 22:00 to 03:00 before).
    with override_settings(TIME_ZONE=daytime_zone()):
        plan = signed_plan_for(clinic)
        yield _session(clinic.on_team, minutes_from_now=-10, plan=plan)


def test_check_in_records_the_arrival_once_with_its_audit_row(clinic, today):
    desk = clinic.staff["intake_coordinator"]
    arrival = check_in(by=desk, session=today)
    assert arrival.recorded_by == desk and Arrival.objects.count() == 1
    entry = AuditEntry.objects.get(action="today.checked_in")
    assert entry.patient_id == clinic.on_team.pk and entry.actor_id == desk.pk

    with pytest.raises(InputError, match="Already checked in at"):
        check_in(by=desk, session=today)
    assert Arrival.objects.count() == 1
    assert AuditEntry.objects.filter(action="today.checked_in").count() == 1


def test_check_in_is_refused_for_another_day_or_a_cancelled_session(clinic, today):
    desk = clinic.staff["intake_coordinator"]
    later = _session(clinic.on_team, minutes_from_now=3 * 24 * 60)
    with pytest.raises(InputError, match="a patient is checked in on the day"):
        check_in(by=desk, session=later)
    cancel_dosing_session(by=desk, session=later, reason="Unwell")
    later.refresh_from_db()
    with pytest.raises(InputError, match="Only a booked session can be checked in"):
        check_in(by=desk, session=later)
    assert not Arrival.objects.exists()


def test_the_board_follows_the_session_through_its_phases(clinic, today):
    nurse = clinic.staff["nurse"]

    def row():  # type: ignore[no-untyped-def]
        (site,) = day_board(user=nurse).sites
        (only,) = site.dosing
        return only

    assert row().phase.phase.value == "booked" and row().may_check_in
    check_in(by=clinic.staff["intake_coordinator"], session=today)
    assert row().phase.phase.value == "arrived" and not row().may_check_in
    record = chairside.open_record(by=nurse, session=today)
    assert row().phase.phase.value == "checklist"
    assert row().escort == "Not asked yet" and row().escort_ok is None
    chairside.answer_checklist(
        by=nurse,
        record=record,
        identity_confirmed=True,
        fasting_confirmed=True,
        escort_confirmed=True,
        pregnancy_status="not_pregnant",
        weight_kg=Decimal(70),
    )
    assert row().escort_ok is True
    # The next check comes from the chair side's own schedule: the pre-dose baseline is due now.
    assert row().next_check_minutes is not None and row().next_check_minutes <= 0
    assert row().console_url == reverse("chairside:console", args=[clinic.on_team.pk, today.pk])
    # Someone not on the care team sees the session but gets no console link.
    assert day_board(user=clinic.others["nurse"]).sites[0].dosing[0].console_url is None


def test_the_page_and_the_poll(clinic, today, as_role):
    client = as_role("nurse")
    page = client.get(reverse("today:board"))
    assert page.status_code == 200
    html = page.content.decode()
    assert clinic.on_team.display_name in html and "Booked" in html
    assert 'hx-headers=\'{"X-Kapstone-Poll": "1"}\'' in html
    version = page.context["version"]
    poll = reverse("today:board_fragment")
    headers = {"HX-Request": "true", "X-Kapstone-Poll": "1"}
    assert client.get(poll, {"seen": version}, headers=headers).status_code == 204
    check_in(by=clinic.staff["intake_coordinator"], session=today)
    changed = client.get(poll, {"seen": version}, headers=headers)
    assert changed.status_code == 200 and "Checked in" in changed.content.decode()


def test_the_front_desk_checks_in_from_the_board_and_a_therapist_may_not(clinic, today, as_role):
    url = reverse("today:check_in", args=[clinic.on_team.pk, today.pk])
    therapist = as_role("therapist")
    assert therapist.post(url).status_code == 403
    desk = as_role("intake_coordinator")
    page = desk.post(url, follow=True)
    assert "is checked in" in page.content.decode()
    again = desk.post(url, follow=True).content.decode()
    assert "Already checked in at" in again
    assert Arrival.objects.count() == 1


def test_tomorrow_lists_what_is_missing_before_dosing(clinic, today, as_role):
    ready = clinic.on_team
    unready = clinic.elsewhere
    _session(ready, minutes_from_now=24 * 60)
    _session(unready, minutes_from_now=24 * 60 + 30)
    raise_alert(patient=unready, reason="PHQ-9 item 9 endorsed", hold_dosing=False)
    rows = {r.patient.pk: r.missing for r in tomorrow(user=clinic.staff["nurse"])}
    assert "Eligibility not signed" in rows[unready.pk]
    assert "No signed treatment plan" in rows[unready.pk]
    assert "Open suicide-risk alert" in rows[unready.pk]
    assert not any("Eligibility" in m or "plan" in m for m in rows[ready.pk])
    # The page lists them below today's board (read once, not polled).
    page = as_role("nurse").get(reverse("today:board")).content.decode()
    assert "Open suicide-risk alert" in page and page.index("Tomorrow") > page.index(
        'id="day-board"'
    )


@pytest.mark.parametrize(
    ("role", "lands"),
    [
        ("nurse", "/today/"),
        ("prescriber", "/today/"),
        ("intake_coordinator", "/today/"),
        ("medical_director", None),
        ("researcher", None),
    ],
)
def test_home_is_the_day_board_for_those_on_the_floor(clinic, as_role, role, lands):
    response = as_role(role).get("/")
    if lands:
        assert response.status_code == 302 and response["Location"] == lands
    else:
        assert response.status_code == 200


def test_the_board_stays_cheap(clinic, today, as_role):
    for k in range(6):
        _session(clinic.elsewhere, minutes_from_now=-20 - k)
    client = as_role("nurse")
    with CaptureQueriesContext(connection) as first:
        client.get(reverse("today:board"))
    for k in range(6):
        _session(clinic.elsewhere, minutes_from_now=-40 - k)
    with CaptureQueriesContext(connection) as more:
        client.get(reverse("today:board"))
    # Rows without a chair-side record add no queries of their own.
    assert len(more) == len(first), [q["sql"] for q in more.captured_queries]
