"""The front desk records a patient's coverage and an esketamine prior authorisation of two
sessions, both already used at the chair; the day board then warns before tomorrow's session, the
one past the approval, and the patient's calendar names it too."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from kapstone.accounts.models import Site
from kapstone.clinical.access import Role
from tests.conftest import make_patient
from tests.functional.conftest import assert_accessible
from tests.functional.test_intake_to_plan import sign_in
from tests.functional.test_suicide_risk_alert import staff_member
from tests.shell.coverage_support import esketamine_session, payer, signed_session

pytestmark = pytest.mark.functional
EXCEEDS = "would exceed the 2 approved units of authorisation PA-2201"


def test_the_day_board_warns_before_the_session_past_the_authorisation(
    live_server, page, db, daytime
):
    site = Site.objects.create(name="Riverside Clinic", time_zone=daytime)
    nurse, _ = staff_member("glindqvist", Role.NURSE, site, "Grace", "Lindqvist")
    prescriber, _ = staff_member("drreyes", Role.PRESCRIBER, site, "Daniel", "Reyes")
    desk, key = staff_member("jwhitfield", Role.INTAKE_COORDINATOR, site, "Jordan", "Whitfield")
    patient = make_patient(
        by=desk,
        mrn="KAP-7501",
        site=site,
        given_name="Ruth",
        family_name="Okonkwo",
        prescriber=prescriber,
        nurse=nurse,
    )
    acme = payer("Acme Health")
    signed_session(patient, nurse=nurse, days_from_today=-7)
    signed_session(patient, nurse=nurse, days_from_today=-3)
    tomorrow = esketamine_session(patient, days_from_today=1)

    sign_in(page, live_server.url, "jwhitfield", key)
    page.get_by_role("link", name="Prior authorisations").click()
    page.get_by_role("heading", name="Esketamine booked without an authorisation").wait_for()
    assert_accessible(page)
    page.get_by_role("link", name="Ruth Okonkwo").click()

    page.get_by_label("Payer").select_option(label=acme.name)
    page.get_by_label("Member ID").fill("M-5501")
    page.get_by_label("Esketamine is covered under").select_option(label="Medical benefit")
    page.get_by_role("button", name="Record the coverage").click()
    expect(page.get_by_text("Coverage recorded.")).to_be_visible()

    today = timezone.localdate()
    page.get_by_label("Authorisation number").fill("PA-2201")
    page.get_by_label("Sessions approved").fill("2")
    page.get_by_label("First day").fill((today - dt.timedelta(days=30)).isoformat())
    page.get_by_label("Last day").fill((today + dt.timedelta(days=60)).isoformat())
    page.get_by_role("button", name="Record the authorisation").click()
    expect(page.get_by_text("Prior authorisation PA-2201 recorded.")).to_be_visible()
    expect(page.get_by_role("cell", name="2 of 2")).to_be_visible()
    expect(page.get_by_text(EXCEEDS)).to_be_visible()
    assert_accessible(page)

    page.goto(f"{live_server.url}{reverse('today:board')}")
    warning = page.locator('[data-coverage-warning="session_exceeds_units"]')
    expect(warning).to_contain_text("Ruth Okonkwo")
    expect(warning).to_contain_text(EXCEEDS)
    assert_accessible(page)

    page.goto(f"{live_server.url}{reverse('timetable:patient_calendar', args=[patient.pk])}")
    named = page.locator(f'li[data-session="{tomorrow.pk}"]')
    expect(named).to_contain_text(EXCEEDS)
    assert_accessible(page)
