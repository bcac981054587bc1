"""Issue 15, point 9: a patient on the clinic tablet sees the crisis resources in every page's
footer, and first on the page once an answer has raised a suicide-risk flag."""

from __future__ import annotations

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from kapstone.accounts.models import Site
from kapstone.accounts.services import create_staff
from kapstone.clinical.access import Role
from tests.conftest import make_patient
from tests.functional.conftest import assert_accessible
from tests.functional.test_kiosk import PASSWORD, answer, sign_in

pytestmark = pytest.mark.functional
PHQ9 = "Patient Health Questionnaire-9 (PHQ-9)"
GAD7 = "Generalized Anxiety Disorder-7 (GAD-7)"


def in_view(locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 1366


def test_the_patient_sees_988_and_911_on_every_page_and_first_after_a_risk_answer(
    live_server, page
):
    site = Site.objects.create(name="Riverside Clinic")
    prescriber = create_staff(
        by=None,
        username="drreyes",
        first_name="Daniel",
        last_name="Reyes",
        email="d@example.invalid",
        role=Role.PRESCRIBER,
        password=PASSWORD,
        sites=[site],
    )
    device = TOTPDevice.objects.create(user=prescriber, name="phone", confirmed=True)
    patient = make_patient(by=prescriber, mrn="KAP-7301", site=site, prescriber=prescriber)

    page.goto(f"{live_server.url}/patients/{patient.pk}/questionnaires/send/")
    sign_in(page, device)
    page.get_by_label(PHQ9, exact=True).check()
    page.get_by_label(GAD7, exact=True).check()
    page.get_by_role("button", name="Hand this tablet to the patient").click()

    # Every patient page: the help is in the footer, before anything goes wrong.
    page.get_by_role("heading", name="Your questionnaires").wait_for()
    footer = page.get_by_role("contentinfo")
    assert footer.get_by_role("heading", name="If you are in crisis").is_visible()
    assert footer.get_by_role("link", name="988").first.get_attribute("href") == "tel:988"
    assert footer.get_by_role("link", name="911").get_attribute("href") == "tel:911"
    assert "988 Suicide & Crisis Lifeline" in footer.inner_text()
    assert_accessible(page)
    page.get_by_role("link", name=f"Start {PHQ9}").click()
    page.get_by_text("Question 1 of 10", exact=True).wait_for()
    assert "call 988 or text 988" in page.get_by_role("contentinfo").inner_text()

    for position in range(1, 9):
        answer(page, position, 10, "Not at all")
    answer(page, 9, 10, "Several days")  # thoughts of being better off dead
    answer(page, 10, 10, "Somewhat difficult")
    page.get_by_role("button", name="Send my answers").click()

    # Back on the list with GAD-7 still to answer: the help comes first, in view, whatever else.
    page.get_by_role("heading", name="Your questionnaires").wait_for()
    urgent = page.get_by_role("region", name="Please reach out for support now")
    assert urgent.is_visible() and in_view(urgent)
    assert urgent.get_by_role("link", name="988").first.get_attribute("href") == "tel:988"
    assert urgent.get_by_role("link", name="988").last.get_attribute("href") == "sms:988"
    assert urgent.get_by_role("link", name="911").get_attribute("href") == "tel:911"
    assert_accessible(page)

    page.get_by_role("link", name=f"Start {GAD7}").click()
    page.get_by_text("Question 1 of 7", exact=True).wait_for()
    assert page.get_by_role("region", name="Please reach out for support now").is_visible()
    for position in range(1, 8):
        answer(page, position, 7, "Not at all")
    page.get_by_role("button", name="Send my answers").click()

    # The last page, where the tablet is handed back, still leads with the help.
    page.get_by_text("Please hand the tablet back to the clinic staff.").wait_for()
    urgent = page.get_by_role("region", name="Please reach out for support now")
    assert urgent.is_visible() and in_view(urgent)
    assert "911" in urgent.inner_text()
    assert "alert" not in page.content().lower()  # help, not the staff's machinery
    assert_accessible(page)
