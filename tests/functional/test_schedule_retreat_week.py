"""On a tablet, the intake coordinator schedules next week's retreats for the demo clinic: every
pending plan is ticked, the solve runs in the task worker while the page polls, the result is read
by room, staff member and patient, and accepted. The booked sessions are on Iris Calloway's chart
(Dosing sessions tab), and her calendar feed and her nurse's, fetched over HTTP, hold them."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import urllib.request

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from icalendar import Calendar

from kapstone.demo.generator import DEMO_PASSWORD, build_demo_clinic
from kapstone.dosing.models import DosingSession
from kapstone.integration.models import IntegrationSession
from kapstone.patients.models import Patient
from kapstone.timetable import services
from kapstone.timetable.models import SolveRun
from tests.functional.conftest import assert_accessible
from tests.functional.test_first_sign_in_and_registry import authenticator_code

pytestmark = pytest.mark.functional


def fetch_ics(url: str) -> Calendar:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - the live test server
        assert response.headers["Content-Type"].startswith("text/calendar")
        return Calendar.from_ical(response.read())


def test_coordinator_schedules_next_weeks_retreats_and_accepts(live_server, page, settings):
    settings.SCHEDULE_TIME_LIMIT_SECONDS = 3
    clinic = build_demo_clinic(
        patients=2, seed=3, today=timezone.localdate(), history_until=timezone.now()
    )
    coordinator = clinic.staff["intake"]
    key = secrets.token_bytes(20)
    TOTPDevice.objects.create(user=coordinator, name="phone", confirmed=True, key=key.hex())
    secret = base64.b32encode(key).decode().rstrip("=")
    today = timezone.localdate()
    monday = today + dt.timedelta(days=7 - today.weekday())

    page.goto(f"{live_server.url}/")
    page.get_by_label("Username").fill("intake")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Code").fill(authenticator_code(secret))
    page.get_by_role("button", name="Verify").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Schedule").click()

    page.get_by_role("heading", name="Schedule retreats").wait_for()
    assert_accessible(page)
    pending = page.get_by_role("group", name="Pending plans").get_by_role("checkbox")
    assert pending.count() == 8
    assert all(pending.nth(n).is_checked() for n in range(8))
    page.get_by_label("First day").fill(monday.isoformat())
    page.get_by_label("Weeks").fill("2")
    page.get_by_role("button", name="Solve").click()

    # The run page polls while the task worker solves; then it shows the result by itself.
    page.get_by_text("Queued: waiting for the task worker").wait_for()
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    page.get_by_role("heading", name="Result").wait_for(timeout=30_000)
    run = SolveRun.objects.get()
    assert run.objective == 8 and run.violations == []
    facts = page.locator(".facts").inner_text()
    assert "8 of 8" in facts and "0 %" in facts
    grid = page.get_by_role("table", name="Proposed sessions by room and day")
    assert "IV chair 1, Riverside Clinic" in grid.inner_text()
    assert monday.strftime("%a %-d %b") in grid.inner_text()
    assert_accessible(page)
    page.get_by_role("link", name="By staff member").click()
    page.get_by_role("table", name="Proposed sessions by staff member and day").wait_for()
    assert "Elena Markovic, LCSW" in page.content()
    page.get_by_role("link", name="By patient").click()
    iris = page.get_by_role("region", name="Iris Calloway (KAP-9001)")
    assert iris.get_by_role("row").count() == 7  # a header and six doses
    assert "(EMDR)" in iris.inner_text()
    assert_accessible(page)

    page.get_by_role("button", name="Accept and book these sessions").click()
    page.get_by_text("Schedule accepted: the sessions are booked").wait_for()
    page.get_by_text("Accepted", exact=False).first.wait_for()
    assert DosingSession.objects.filter(patient__mrn__startswith="KAP-90").count() == 48
    assert IntegrationSession.objects.filter(patient__mrn__startswith="KAP-90").count() == 48

    # On Iris's chart: the six booked dosing sessions, at her clinic.
    patient = Patient.objects.get(mrn="KAP-9001")
    page.goto(f"{live_server.url}/patients/{patient.pk}/dosing/")
    page.get_by_role("heading", name="Dosing sessions").wait_for()
    rows = page.get_by_role("table").get_by_role("row").filter(has_text="Riverside Clinic")
    assert rows.count() == 6
    assert_accessible(page)

    # Her calendar link, made on the chart's Calendar tab, and read like a calendar app would.
    page.get_by_role("navigation", name="Chart sections").get_by_role(
        "link", name="Calendar"
    ).click()
    page.get_by_role("button", name="Make a calendar link").click()
    url = page.get_by_label("Calendar address").input_value()
    assert_accessible(page)
    events = list(fetch_ics(url).walk("VEVENT"))
    doses = sorted(e.decoded("dtstart") for e in events if str(e["summary"]).startswith("Dosing"))
    booked = DosingSession.objects.filter(patient=patient).order_by("starts_at")
    assert doses == [d.starts_at for d in booked]
    assert len(events) == 12
    assert all("120 River Road" in str(e["location"]) for e in events)

    # Her nurse's own feed holds the sessions she monitors, with initials only.
    nurse = patient.nurse
    _, token = services.issue_feed(by=nurse, staff=nurse)
    staff_events = list(fetch_ics(f"{live_server.url}/calendar/{token}.ics").walk("VEVENT"))
    mine = DosingSession.objects.filter(nurse=nurse, status="booked").count()
    assert len(staff_events) == mine > 0
    assert any("I.C." in str(e["summary"]) for e in staff_events)
    assert not any("Calloway" in str(e.get("summary")) for e in staff_events)
