"""A patient answers PHQ-9 item 9 with "Several days" on a phone; the therapist, signed in on a tablet,
sees the alert at once, and acknowledges it with the action taken."""

from __future__ import annotations

import base64
import secrets

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from kapstone.accounts.models import Site
from kapstone.accounts.services import create_staff
from kapstone.assessments.services import send_questionnaires
from kapstone.clinical.access import Role
from kapstone.safety.models import SafetyAlert
from tests.conftest import make_patient
from tests.functional.conftest import assert_accessible
from tests.functional.test_first_sign_in_and_registry import authenticator_code
from tests.functional.test_questionnaire_link import PHONE, answer, watched_page

pytestmark = pytest.mark.functional
PASSWORD = "a-long-enough-passphrase-1"


def staff_member(username, role, site, first, last):
    user = create_staff(
        by=None,
        username=username,
        first_name=first,
        last_name=last,
        email=f"{username}@example.invalid",
        role=role,
        password=PASSWORD,
        sites=[site],
    )
    key = secrets.token_bytes(20)
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True, key=key.hex())
    return user, base64.b32encode(key).decode().rstrip("=")


def test_item_9_alert_reaches_the_therapist_who_acknowledges_it(live_server, browser, page):
    site = Site.objects.create(name="Riverside Clinic")
    prescriber, _ = staff_member("drreyes", Role.PRESCRIBER, site, "Daniel", "Reyes")
    therapist, secret = staff_member("emarkovic", Role.THERAPIST, site, "Elena", "Markovic")
    patient = make_patient(
        by=prescriber,
        mrn="KAP-7101",
        site=site,
        given_name="Noor",
        family_name="Haddad",
        prescriber=prescriber,
        therapist=therapist,
    )
    _, token = send_questionnaires(by=prescriber, patient=patient, instruments=["phq9"])

    # The patient, on a phone.
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    patient_page = watched_page(phone)
    patient_page.goto(f"{live_server.url}/q/{token}/")
    patient_page.get_by_role("link", name="Start Patient Health Questionnaire-9 (PHQ-9)").click()
    for position in range(1, 9):
        answer(patient_page, position, 10, "Not at all")
    answer(patient_page, 9, 10, "Several days")
    answer(patient_page, 10, 10, "Somewhat difficult")
    patient_page.get_by_role("button", name="Send my answers").click()
    patient_page.get_by_role("heading", name="Thank you").wait_for()
    # Nothing on the patient's side reveals the alert machinery.
    assert "alert" not in patient_page.content().lower()
    phone.close()

    alert = SafetyAlert.objects.get(patient=patient)
    assert "PHQ-9" in alert.reason

    # The therapist signs in on the clinic's tablet: the red band is on the very first page.
    page.goto(f"{live_server.url}/")
    page.get_by_label("Username").fill("emarkovic")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Code").fill(authenticator_code(secret))
    page.get_by_role("button", name="Verify").click()
    banner = page.get_by_role("alert").filter(has_text="1 open suicide-risk alert")
    banner.wait_for()
    assert_accessible(page)
    banner.get_by_role("link", name="Open the alert board").click()

    page.get_by_role("heading", name="Suicide-risk alert board").wait_for()
    row = page.get_by_role("row").filter(has_text="Noor Haddad")
    assert "Patient Health Questionnaire-9" in row.inner_text() or "PHQ-9" in row.inner_text()
    assert_accessible(page)
    row.get_by_role("link", name="Acknowledge the alert for Noor Haddad").click()

    # Submitting without an action or a note is refused with specific messages.
    page.get_by_role("button", name="Acknowledge the alert").click()
    page.get_by_text("Record at least one action taken.").wait_for()
    page.get_by_text("Describe what was done and the plan.").wait_for()
    assert_accessible(page)
    page.get_by_label("Safety plan made or reviewed with the patient").check()
    page.get_by_label("C-SSRS follow-up completed").check()
    page.get_by_label("Note").fill(
        "Called Noor: passive thoughts, no plan or intent. Safety plan reviewed; C-SSRS negative."
    )
    page.get_by_role("button", name="Acknowledge the alert").click()

    page.get_by_text("Alert acknowledged; the action taken is on the record.").wait_for()
    page.get_by_text("Acknowledged alert").wait_for()
    assert_accessible(page)
    assert page.get_by_text("open suicide-risk alert").count() == 0
    alert.refresh_from_db()
    assert alert.acknowledgement.by == therapist
    assert alert.acknowledgement.actions == ["safety_plan", "cssrs_follow_up"]
