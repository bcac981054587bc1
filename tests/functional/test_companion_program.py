"""A patient on a phone walks their program in the companion: home, sessions, the preparation
checklist, a questionnaire due answered from the app, and their progress."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kapstone.assessments.models import QuestionnaireResponse
from kapstone.assessments.services import save_answers, send_questionnaires, submit
from kapstone.preparation.models import PreparationAnswer
from tests.companion.program_support import booked_patient
from tests.companion.support import patient_cookie
from tests.conftest import build_clinic
from tests.functional.conftest import assert_accessible

pytestmark = pytest.mark.functional
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    yield context
    context.close()


def watched_page(context):  # type: ignore[no-untyped-def]
    page = context.new_page()
    page.csp_violations = []
    page.on(
        "console",
        lambda msg: (
            page.csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None
        ),
    )
    return page


def fits_the_screen(page) -> bool:  # type: ignore[no-untyped-def]
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def earlier_gad7(patient, by, when: dt.datetime) -> None:  # type: ignore[no-untyped-def]
    qset, _ = send_questionnaires(by=by, patient=patient, instruments=["gad7"])
    save_answers(
        questionnaire_set=qset, instrument="gad7", answers={str(i): 2 for i in range(1, 8)}
    )
    response = submit(questionnaire_set=qset, instrument="gad7")
    QuestionnaireResponse.objects.filter(pk=response.pk).update(submitted_at=when, started_at=when)


def test_a_patient_walks_their_program_on_a_phone(live_server, phone):
    clinic = build_clinic()
    booked = booked_patient(clinic)
    patient, prescriber = clinic.on_team, clinic.staff["prescriber"]
    earlier_gad7(patient, prescriber, timezone.now() - dt.timedelta(days=20))
    send_questionnaires(by=prescriber, patient=patient, instruments=["gad7"])
    phone.add_cookies([patient_cookie(booked.account, live_server.url)])
    page = watched_page(phone)
    # The live server's first request loads every URL module: slow on a busy 2-core machine.
    page.set_default_timeout(60_000)

    page.goto(f"{live_server.url}/me/", timeout=120_000)
    page.get_by_role("heading", name="Your next session").wait_for()
    page.get_by_text("0 of 6 ready").wait_for()
    assert_accessible(page)
    assert fits_the_screen(page)

    page.get_by_role("link", name="See all your sessions").click()
    page.get_by_role("heading", name="Your sessions").wait_for()
    page.get_by_text("Do not eat after 08:00. Do not drink after 09:30.").first.wait_for()
    page.get_by_text("EMDR: you recall a memory").first.wait_for()
    assert_accessible(page)
    assert fits_the_screen(page)

    page.get_by_role("link", name="Open your checklist").first.click()
    page.get_by_role("heading", name="Get ready for your session").wait_for()
    assert_accessible(page)
    fasting = page.locator(f"#item-{booked.next.pk}-fasting")
    fasting.get_by_role("button", name="Yes").click()
    page.get_by_text("Saved.").wait_for()
    ride = page.locator(f"#item-{booked.next.pk}-ride_home")
    ride.get_by_label("Who is taking you home? (optional)").fill("Sam, my partner")
    ride.get_by_role("button", name="Yes").click()
    page.get_by_text("Saved.").wait_for()
    page.get_by_text("2 of 6 ready.").first.wait_for()
    assert_accessible(page)
    assert fits_the_screen(page)
    said = {(a.item, a.answer, a.note) for a in PreparationAnswer.objects.all()}
    assert said == {("fasting", True, ""), ("ride_home", True, "Sam, my partner")}

    page.get_by_role("link", name="Questionnaires", exact=True).click()
    page.get_by_role("heading", name="Questionnaires", level=1).wait_for()
    assert_accessible(page)
    page.get_by_role("button", name="Start").click()
    page.get_by_role("heading", name="Your questionnaires").wait_for()
    page.get_by_role("link", name="Start Generalized Anxiety Disorder-7 (GAD-7)").click()
    for position in range(1, 8):
        page.get_by_text(f"Question {position} of 7", exact=True).wait_for()
        page.get_by_label("Several days", exact=True).check()
        page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Send my answers").click()
    page.get_by_role("heading", name="Thank you").wait_for()

    page.goto(f"{live_server.url}/me/progress/")
    page.get_by_role("heading", name="Your progress").wait_for()
    words = page.locator(".progress-words").inner_text()
    assert "Your GAD-7 score went from 14 (moderate) on" in words
    assert "to 7 (mild) on" in words
    assert page.locator("figure.c-chart svg").count() == 1
    assert_accessible(page)
    assert fits_the_screen(page)
