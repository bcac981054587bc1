"""A patient on a phone chooses text messages and quiet hours; a mistyped number is refused,
saying why, with everything typed kept."""

from __future__ import annotations

import datetime as dt

import pytest

from kapstone.accounts.models import Site
from kapstone.accounts.services import create_staff
from kapstone.clinical.access import Role
from kapstone.notify.services import preferences_of
from tests.companion.support import make_account, patient_cookie
from tests.conftest import make_patient
from tests.functional.conftest import assert_accessible

pytestmark = pytest.mark.functional
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    yield context
    context.close()


def watched_page(context):
    page = context.new_page()
    page.csp_violations = []
    page.on(
        "console",
        lambda msg: (
            page.csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None
        ),
    )
    return page


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_patient_chooses_texts_and_quiet_hours_on_a_phone(live_server, phone, settings):
    settings.SMS_PROVIDER = "memory"
    site = Site.objects.create(name="Riverside Clinic")
    prescriber = create_staff(
        by=None,
        username="drreyes",
        first_name="Daniel",
        last_name="Reyes",
        email="d@example.invalid",
        role=Role.PRESCRIBER,
        password="a-long-enough-passphrase-1",
        sites=[site],
    )
    patient = make_patient(by=prescriber, mrn="KAP-7101", site=site, prescriber=prescriber)
    account = make_account(patient=patient, by=prescriber)
    phone.add_cookies([patient_cookie(account, live_server.url)])
    page = watched_page(phone)

    page.goto(f"{live_server.url}/me/notifications/")
    page.get_by_role("heading", name="How we contact you").wait_for()
    assert_accessible(page)
    assert fits_the_screen(page)
    assert page.get_by_label("By e-mail").is_checked()

    # A mistyped number: refused, saying why, with what was typed kept.
    page.get_by_label("By text message").check()
    page.get_by_label("Mobile number").fill("555 01")
    page.get_by_label("Quiet from").fill("22:30")
    page.get_by_label("Quiet until").fill("07:00")
    page.get_by_label("Questionnaires to answer").uncheck()
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Nothing was saved").wait_for()
    page.get_by_text("is not a valid phone number: check the digits").wait_for()
    assert page.get_by_label("Mobile number").input_value() == "555 01"
    assert page.get_by_label("Quiet from").input_value() == "22:30"
    assert page.get_by_label("By text message").is_checked()
    assert not page.get_by_label("Questionnaires to answer").is_checked()
    assert_accessible(page)
    assert fits_the_screen(page)
    assert preferences_of(account=account).by_sms is False

    page.get_by_label("Mobile number").fill("207 555 0143")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved. We will contact you as you chose.").wait_for()
    assert page.get_by_label("Mobile number").input_value() == "+1 207-555-0143"
    assert_accessible(page)
    preferences = preferences_of(account=account)
    assert preferences.by_sms and preferences.mobile == "+1 207-555-0143"
    assert (preferences.quiet_start, preferences.quiet_end) == (dt.time(22, 30), dt.time(7, 0))
    assert preferences.questionnaires is False
