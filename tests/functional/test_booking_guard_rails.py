"""Issue 15, point 7: the prescriber books a dosing session by hand on the tablet. A closed day and
an integration session placed during the dose are refused together, nothing is booked; the next try
books the dose and its integration session at once. The therapist then gives a dose that was given
outside the scheduler its integration session, and can write the note."""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

import pytest
from django.utils import timezone

from kapstone.accounts.models import Room, Site
from kapstone.clinical.access import Role
from kapstone.dosing.models import DosingSession
from kapstone.integration.models import IntegrationSession
from kapstone.timetable.models import Closure, OpeningHours
from tests.conftest import make_patient
from tests.functional.conftest import assert_accessible
from tests.functional.test_intake_to_plan import TABLET, sign_in
from tests.functional.test_questionnaire_link import watched_page
from tests.functional.test_suicide_risk_alert import staff_member
from tests.shell.chairside_support import past_session, signed_plan_for

pytestmark = pytest.mark.functional
STARTS = re.compile(r"^Starts")  # not "Integration session starts"


def next_weekday(weekday: int, hour: int) -> dt.datetime:
    today = timezone.localdate()
    day = today + dt.timedelta(days=(weekday - today.weekday()) % 7 or 7)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def typed(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_a_session_booked_by_hand_keeps_the_schedulers_rules(live_server, browser, page):
    site = Site.objects.create(name="Riverside Clinic")
    prescriber, dr_secret = staff_member("drreyes", Role.PRESCRIBER, site, "Daniel", "Reyes")
    therapist, th_secret = staff_member("emarkovic", Role.THERAPIST, site, "Elena", "Markovic")
    nurse, _ = staff_member("nokafor", Role.NURSE, site, "Ngozi", "Okafor")
    patient = make_patient(
        by=prescriber,
        mrn="KAP-7401",
        site=site,
        given_name="Noor",
        family_name="Haddad",
        prescriber=prescriber,
        therapist=therapist,
        nurse=nurse,
    )
    plan = signed_plan_for(
        SimpleNamespace(on_team=patient, staff={"prescriber": prescriber, "therapist": therapist})
    )
    for weekday in range(5):
        OpeningHours.objects.create(site=site, weekday=weekday, opens="08:00", closes="18:00")
    Room.objects.create(site=site, name="Chair 1", routes=["iv"])
    Room.objects.create(site=site, name="Room B", routes=["intranasal_esketamine"])
    tuesday, wednesday = next_weekday(1, 9), next_weekday(2, 9)
    Closure.objects.create(site=site, day=tuesday.date(), reason="Staff training")
    # A dose given this morning outside the scheduler: no integration session was booked with it.
    given = past_session(SimpleNamespace(on_team=patient), began_minutes_ago=300, plan=plan)
    base = live_server.url

    sign_in(page, base, "drreyes", dr_secret)
    page.goto(f"{base}/patients/{patient.pk}/dosing/")
    page.get_by_role("link", name="Book a session").click()
    page.get_by_role("heading", name="Book a dosing session").wait_for()
    assert page.get_by_label("Room or chair").locator("option", has_text="Room B").count() == 0
    page.get_by_label(STARTS).fill(typed(tuesday))
    page.get_by_label("Room or chair").select_option(
        label="Chair 1, Riverside Clinic (Intravenous infusion (racemic ketamine))"
    )
    page.get_by_label("Integration session starts").fill(typed(tuesday + dt.timedelta(hours=1)))
    page.get_by_label("Modality").select_option(index=1)
    page.get_by_role("button", name="Book the session").click()

    # Both problems at once, in the front desk's words; nothing booked.
    page.get_by_text("Riverside Clinic is closed on").first.wait_for()
    assert "(Staff training)" in page.content()
    assert page.get_by_text(
        "The integration session starts after the dosing session ends"
    ).is_visible()
    assert DosingSession.objects.count() == 1 and not IntegrationSession.objects.exists()
    assert_accessible(page)

    page.get_by_label(STARTS).fill(typed(wednesday))
    page.get_by_label("Integration session starts").fill(typed(wednesday + dt.timedelta(hours=5)))
    page.get_by_role("button", name="Book the session").click()
    page.get_by_text("Dosing session booked for").wait_for()
    booked = DosingSession.objects.exclude(pk=given.pk).get()
    assert (booked.plan, booked.route, booked.room.name) == (plan, "iv", "Chair 1")
    assert IntegrationSession.objects.get().dosing_session == booked

    # The therapist gives this morning's dose its integration session, held an hour ago.
    other = browser.new_context(viewport=TABLET)
    th = watched_page(other)
    sign_in(th, base, "emarkovic", th_secret)
    th.goto(f"{base}/patients/{patient.pk}/integration/")
    th.get_by_role("heading", name="Doses without an integration session").wait_for()
    th.get_by_role("link", name="Book its integration session").click()
    th.get_by_label(STARTS).fill(typed(timezone.now() - dt.timedelta(hours=1, minutes=30)))
    th.get_by_label("Modality").select_option(index=1)
    assert_accessible(th)
    th.get_by_role("button", name="Book the integration session").click()
    th.get_by_text("Integration session booked: its note can be written now.").wait_for()
    assert th.get_by_role("link", name="Write the note").is_visible()
    assert IntegrationSession.objects.filter(dosing_session=given).count() == 1
    other.close()
