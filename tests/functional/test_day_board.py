"""The day board on the clinic's tablets. The front desk checks a patient in from the board; a nurse
signs in, lands on today's sessions, opens the console in one tap, walks the checklist and charts
the dose, and a colleague's board on another tablet shows the phase move without a reload."""

from __future__ import annotations

import datetime as dt
import os
from types import SimpleNamespace

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from kapstone.accounts.models import Room, Site
from kapstone.chairside.models import ChairsideRecord
from kapstone.clinical.access import Role
from kapstone.today.models import Arrival
from tests.conftest import make_patient
from tests.functional.conftest import assert_accessible
from tests.functional.test_chairside_session import local, reading
from tests.functional.test_intake_to_plan import TABLET, sign_in
from tests.functional.test_questionnaire_link import watched_page
from tests.functional.test_suicide_risk_alert import staff_member
from tests.shell.chairside_support import draw_for, past_session, signed_plan_for

pytestmark = pytest.mark.functional
SHOTS = os.environ.get("KAPSTONE_SCREENSHOTS")  # a folder: walk the board and keep what was seen


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


@pytest.fixture
def floor(db, daytime):  # type: ignore[no-untyped-def]
    site = Site.objects.create(name="Riverside Clinic", time_zone=daytime)
    room = Room.objects.create(site=site, name="IV chair 1", routes=["iv"])
    nurse, nurse_key = staff_member("glindqvist", Role.NURSE, site, "Grace", "Lindqvist")
    prescriber, dr_key = staff_member("drreyes", Role.PRESCRIBER, site, "Daniel", "Reyes")
    therapist, _ = staff_member("emarkovic", Role.THERAPIST, site, "Elena", "Markovic")
    desk, desk_key = staff_member(
        "jwhitfield", Role.INTAKE_COORDINATOR, site, "Jordan", "Whitfield"
    )
    patient = make_patient(
        by=desk,
        mrn="KAP-7401",
        site=site,
        given_name="Ruth",
        family_name="Okonkwo",
        prescriber=prescriber,
        therapist=therapist,
        nurse=nurse,
    )
    clinic = SimpleNamespace(
        on_team=patient, staff={"prescriber": prescriber, "therapist": therapist}
    )
    plan = signed_plan_for(clinic)  # IV 0.5 mg/kg over 40 min on 70 kg: 35 mg
    session = past_session(clinic, began_minutes_ago=10, plan=plan)
    session.room = room
    session.save(update_fields=["room"])
    return SimpleNamespace(
        patient=patient, session=session, keys={"nurse": nurse_key, "dr": dr_key, "desk": desk_key}
    )


def row(page, floor):  # type: ignore[no-untyped-def]
    return page.locator(f'tr[data-session="{floor.session.pk}"]')


def test_the_front_desk_checks_a_patient_in_from_the_board(live_server, page, floor):
    sign_in(page, live_server.url, "jwhitfield", floor.keys["desk"])
    page.get_by_role("heading", name="Today", exact=True).wait_for()
    mine = row(page, floor)
    expect(mine).to_contain_text("Ruth Okonkwo")
    expect(mine).to_contain_text("IV chair 1")
    expect(mine.locator(".phase")).to_have_text("Booked")
    assert_accessible(page)
    shot(page, "desk-before-check-in")
    mine.get_by_role("button", name="Check in Ruth Okonkwo").click()
    page.get_by_text("Ruth Okonkwo is checked in.").wait_for()
    expect(row(page, floor).locator(".phase")).to_have_text("Checked in")
    assert row(page, floor).get_by_role("button", name="Check in Ruth Okonkwo").count() == 0
    assert Arrival.objects.get(session=floor.session).recorded_by.username == "jwhitfield"
    assert_accessible(page)
    shot(page, "desk-after-check-in")


def test_a_nurse_goes_from_the_board_to_the_dose_and_a_colleague_sees_it(
    live_server, browser, page, floor
):
    base = live_server.url
    session = floor.session
    sign_in(page, base, "glindqvist", floor.keys["nurse"])
    # Signing in lands on today's sessions.
    page.get_by_role("heading", name="Today", exact=True).wait_for()
    assert page.url == f"{base}/today/"
    expect(row(page, floor).locator(".phase")).to_have_text("Booked")
    assert_accessible(page)
    shot(page, "nurse-board")

    # The prescriber on site watches the board on a second tablet, never reloading it.
    second = browser.new_context(viewport=TABLET)
    dr = watched_page(second)
    sign_in(dr, base, "drreyes", floor.keys["dr"])
    dr.get_by_role("heading", name="Today", exact=True).wait_for()
    dr.evaluate("window.__notReloaded = true")
    expect(row(dr, floor).locator(".phase")).to_have_text("Booked")

    # One tap to the console.
    row(page, floor).get_by_role("link", name="Console for Ruth Okonkwo").click()
    page.get_by_role("button", name="Open the chair-side record").click()
    checklist = page.locator("#checklist")
    checklist.get_by_label("Identity confirmed: name and date of birth match the chart").check()
    checklist.get_by_label("Fasted as advised").check()
    checklist.get_by_label("Escort present or arranged, and a ride home (not driving)").check()
    checklist.get_by_label("Pregnancy status").select_option(label="Not pregnant")
    checklist.get_by_label("Weight today (kg)").fill("70.0")
    checklist.get_by_role("button", name="Save the checklist").click()
    page.get_by_text("Checklist saved.").wait_for()
    expect(row(dr, floor).locator(".phase")).to_have_text("Pre-dose checklist", timeout=12_000)
    expect(row(dr, floor)).to_contain_text("Escort and ride home confirmed")

    reading(page, session, 5, 122, 78)
    # The dose was drawn from the safe (the ledger's own walk is tested elsewhere).
    draw_for(ChairsideRecord.objects.get(session=session), mg=35)
    page.reload()
    mar = page.locator("#mar")
    assert mar.get_by_label("Dose (mg)").input_value() == "35"
    mar.get_by_label("Started at").fill(local(session, 8))
    mar.get_by_label("Witnessed by").select_option(label="Daniel Reyes")
    mar.get_by_role("button", name="Chart the dose").click()
    page.get_by_text("Dose of 35 mg charted.").wait_for()

    # The colleague's board shows the dose under way, with the next check from the chair side.
    expect(row(dr, floor).locator(".phase")).to_have_text("Dosing", timeout=12_000)
    expect(row(dr, floor)).to_contain_text("min")
    assert dr.evaluate("window.__notReloaded") is True
    assert_accessible(dr)
    shot(dr, "prescriber-board-dosing")
    assert not page.csp_violations and not dr.csp_violations
    second.close()
    assert timezone.localdate(session.starts_at) == timezone.localdate()
    assert session.starts_at < timezone.now() - dt.timedelta(minutes=5)
