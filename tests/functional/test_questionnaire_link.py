"""A patient on a phone answers PHQ-9 and GAD-7 from a link, leaving half-way and coming back."""

from __future__ import annotations

import pytest

from kapstone.accounts.models import Site
from kapstone.accounts.services import create_staff
from kapstone.assessments.models import QuestionnaireResponse
from kapstone.assessments.services import send_questionnaires
from kapstone.clinical.access import Role
from tests.conftest import make_patient
from tests.functional.conftest import assert_accessible

pytestmark = pytest.mark.functional
PHONE = {"width": 390, "height": 844}


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


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    yield context
    context.close()


def answer(page, position: int, count: int, label: str) -> None:
    page.get_by_text(f"Question {position} of {count}", exact=True).wait_for()
    page.get_by_label(label, exact=True).check()
    page.get_by_role("button", name="Next").click()


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_patient_completes_phq9_and_gad7_on_a_phone_with_a_break(live_server, phone):
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
    patient = make_patient(by=prescriber, mrn="KAP-7001", site=site, prescriber=prescriber)
    questionnaire_set, token = send_questionnaires(
        by=prescriber, patient=patient, instruments=["phq9", "gad7"]
    )
    link = f"{live_server.url}/q/{token}/"
    page = watched_page(phone)

    page.goto(link)
    page.get_by_role("heading", name="Your questionnaires").wait_for()
    assert_accessible(page)
    assert fits_the_screen(page)
    page.get_by_role("link", name="Start Patient Health Questionnaire-9 (PHQ-9)").click()

    # A missing answer gets a clear message; nothing is saved.
    page.get_by_text("Question 1 of 10", exact=True).wait_for()
    assert_accessible(page)
    assert fits_the_screen(page)
    page.get_by_role("button", name="Next").click()
    page.get_by_text("Please choose an answer to this question to go on.").wait_for()
    assert_accessible(page)

    for position, label in enumerate(
        ["Several days", "More than half the days", "Not at all", "Several days"], start=1
    ):
        answer(page, position, 10, label)
    page.get_by_text("Question 5 of 10", exact=True).wait_for()
    page.close()  # the patient leaves half-way

    response = QuestionnaireResponse.objects.get(
        questionnaire_set=questionnaire_set, instrument="phq9"
    )
    assert response.answers == {"1": 1, "2": 2, "3": 0, "4": 1}

    page = watched_page(phone)
    page.goto(link)
    page.get_by_text("4 of 10 questions answered").wait_for()
    page.get_by_role("link", name="Continue Patient Health Questionnaire-9 (PHQ-9)").click()
    page.get_by_text("Question 5 of 10", exact=True).wait_for()  # resumes where they stopped
    for position in range(5, 10):
        answer(page, position, 10, "Not at all")
    answer(page, 10, 10, "Somewhat difficult")

    page.get_by_role("heading", name="Check your answers").wait_for()
    assert_accessible(page)
    page.get_by_role("button", name="Send my answers").click()
    page.get_by_text("Thank you: Patient Health Questionnaire-9 (PHQ-9) is sent").wait_for()

    page.get_by_role("link", name="Start Generalized Anxiety Disorder-7 (GAD-7)").click()
    for position in range(1, 8):
        answer(page, position, 7, "Several days")
    page.get_by_role("button", name="Send my answers").click()
    page.get_by_role("heading", name="Thank you").wait_for()
    assert_accessible(page)

    phq9, gad7 = questionnaire_set.responses.order_by("position")
    assert (phq9.total, phq9.severity, phq9.status) == (4, "minimal", "submitted")
    assert (gad7.total, gad7.severity) == (7, "mild")

    page.goto(link)  # used up
    page.get_by_role("heading", name="This link cannot be opened").wait_for()
