"""Secure messages end to end: a patient on a phone writes to their care team; the therapist, on a
tablet, sees it on the day board and the chart and replies; the patient sees the reply and the read
receipt. An urgent message puts the crisis resources first and raises the alert on the alert board."""

from __future__ import annotations

import re

import pytest

from kapstone.accounts.models import Site
from kapstone.clinical.access import Role
from kapstone.messaging.models import Message
from kapstone.safety.models import SafetyAlert
from tests.companion.support import make_account, patient_cookie
from tests.conftest import make_patient
from tests.functional.conftest import assert_accessible
from tests.functional.test_intake_to_plan import TABLET, sign_in
from tests.functional.test_questionnaire_link import PHONE, fits_the_screen, watched_page
from tests.functional.test_suicide_risk_alert import staff_member

pytestmark = pytest.mark.functional


@pytest.fixture
def team(db):
    site = Site.objects.create(name="Riverside Clinic")
    prescriber, _ = staff_member("drreyes", Role.PRESCRIBER, site, "Daniel", "Reyes")
    therapist, secret = staff_member("emarkovic", Role.THERAPIST, site, "Elena", "Markovic")
    patient = make_patient(
        by=prescriber,
        mrn="KAP-7201",
        site=site,
        given_name="Noor",
        family_name="Haddad",
        prescriber=prescriber,
        therapist=therapist,
    )
    return patient, make_account(patient=patient, by=prescriber), secret


def on_phone(browser, live_server, account):
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    phone.add_cookies([patient_cookie(account, live_server.url)])
    return phone, watched_page(phone)


def test_a_message_and_its_reply_with_read_receipts(live_server, browser, team):
    _patient, account, secret = team
    phone, mine = on_phone(browser, live_server, account)
    mine.goto(f"{live_server.url}/me/messages/")
    mine.get_by_role("heading", name="Messages", exact=True).wait_for()
    mine.get_by_role("heading", name="Messages are not for emergencies").wait_for()
    assert_accessible(mine)
    assert fits_the_screen(mine)
    # An empty message is refused, and what was typed in the subject is kept.
    mine.get_by_label("Subject (optional)").fill("Thursday")
    mine.get_by_role("button", name="Send message").click()
    mine.get_by_text("Write your message before sending it.").wait_for()
    assert mine.get_by_label("Subject (optional)").input_value() == "Thursday"
    assert_accessible(mine)
    mine.get_by_label("Your message").fill("Could we move Thursday's session to the afternoon?")
    mine.get_by_role("button", name="Send message").click()
    mine.get_by_role("heading", name="Thursday").wait_for()
    mine.get_by_text("Not read yet").wait_for()
    assert mine.locator(".crisis-urgent").count() == 0
    assert_accessible(mine)
    assert fits_the_screen(mine)

    # The therapist, on the clinic's tablet: the day board lists it, the chart's tab opens it.
    desk = browser.new_context(viewport=TABLET)
    staff = watched_page(desk)
    sign_in(staff, live_server.url, "emarkovic", secret)
    staff.goto(f"{live_server.url}/today/")
    section = staff.get_by_role("region", name=re.compile("Messages awaiting a reply"))
    section.wait_for()
    assert_accessible(staff)
    section.get_by_role("link", name="Noor Haddad").click()
    staff.get_by_text("Could we move Thursday's session to the afternoon?").wait_for()
    assert_accessible(staff)
    staff.get_by_role("link", name="Messages", exact=True).click()
    staff.get_by_role("heading", name="Secure messages").wait_for()
    assert_accessible(staff)
    staff.get_by_role("link", name="Thursday").click()
    staff.get_by_label("Reply to the patient").fill("Yes: 2 pm on Thursday works. See you then.")
    staff.get_by_role("button", name="Send reply").click()
    staff.get_by_text("Reply sent.").wait_for()
    staff.get_by_text("Not read yet").wait_for()  # the patient has not opened it yet
    assert_accessible(staff)
    staff.goto(f"{live_server.url}/today/")
    staff.get_by_role("heading", name="Today").wait_for()
    assert staff.get_by_text("Messages awaiting a reply").count() == 0

    # The patient sees the reply, and that their message was read.
    mine.reload()
    mine.get_by_text("Yes: 2 pm on Thursday works. See you then.").wait_for()
    assert mine.get_by_text(re.compile(r"^Read \d\d:\d\d$")).count() == 1
    assert_accessible(mine)
    # ... and the therapist sees that the patient read the reply.
    staff.go_back()
    staff.reload()
    staff.get_by_text(re.compile(r"^Read \d\d:\d\d$")).first.wait_for()
    assert not mine.csp_violations and not staff.csp_violations
    phone.close()
    desk.close()


def test_an_urgent_message_puts_help_first_and_raises_the_alert(live_server, browser, team):
    patient, account, secret = team
    phone, mine = on_phone(browser, live_server, account)
    mine.goto(f"{live_server.url}/me/messages/")
    mine.get_by_label("Your message").fill("I don’t want to be here anymore.")
    mine.get_by_role("button", name="Send message").click()
    urgent = mine.locator(".crisis-urgent")
    urgent.wait_for()
    # The crisis resources come before everything else on the page.
    first = mine.evaluate("document.querySelector('main h1, main section, main h2').className")
    assert "crisis-urgent" in first
    assert urgent.get_by_role("link", name="988").first.is_visible()
    assert_accessible(mine)
    assert fits_the_screen(mine)
    message = Message.objects.get(patient=patient)
    alert = SafetyAlert.objects.get(patient=patient)
    assert f"secure message {message.pk}" in alert.reason
    phone.close()

    desk = browser.new_context(viewport=TABLET)
    staff = watched_page(desk)
    sign_in(staff, live_server.url, "emarkovic", secret)
    staff.goto(f"{live_server.url}/alerts/")
    staff.get_by_role("heading", name="Suicide-risk alert board").wait_for()
    row = staff.get_by_role("row").filter(has_text="Noor Haddad")
    assert "secure message" in row.inner_text()
    assert_accessible(staff)
    desk.close()
