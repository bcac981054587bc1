"""The clinic tablet: a prescriber signs in, hands the tablet to the patient, who answers GAD-7 and
hands it back; Back then shows no answers. The prescriber signs in again and rates the MADRS."""

from __future__ import annotations

import time
from urllib.parse import urlparse

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from kapstone.accounts.models import Site
from kapstone.accounts.services import create_staff
from kapstone.assessments.models import QuestionnaireResponse, QuestionnaireSet
from kapstone.clinical.access import Role
from kapstone.clinical.instruments.madrs import MADRS_LABELS
from tests.conftest import make_patient, make_staff
from tests.functional.conftest import assert_accessible

pytestmark = pytest.mark.functional
PASSWORD = "a-long-enough-passphrase-1"
GAD7 = "Generalized Anxiety Disorder-7 (GAD-7)"


def authenticator_code(device: TOTPDevice) -> str:
    """A code the server accepts now, as a phone whose clock is in step with it would show.

    django-otp accepts the steps within its tolerance around the device's ``drift`` and after its
    ``last_t`` (a code is never used twice), and moves ``drift`` to the step a code matched. So the
    code is for the server's current step, or the next one when that was used already. A fixed
    "one step ahead" for the second sign-in failed whenever the first sign-in's code was typed in
    one 30-second step and checked in the next (a slow machine): drift then went to -1 and the code
    two steps ahead was refused (a CI run, 2026-12-07)."""
    device.refresh_from_db()
    generator = TOTP(
        device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift
    )
    generator.time = time.time()
    now = generator.t()
    generator.drift += max(now, device.last_t + 1) - now
    return f"{generator.token():0{device.digits}d}"


def sign_in(page, device: TOTPDevice) -> None:
    page.wait_for_url("**/accounts/sign-in/**")
    page.get_by_label("Username").fill("drreyes")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/accounts/mfa/**")
    page.get_by_label("Code").fill(authenticator_code(device))
    page.get_by_role("button", name="Verify").click()


def answer(page, position: int, count: int, label: str) -> None:
    page.get_by_text(f"Question {position} of {count}", exact=True).wait_for()
    page.get_by_label(label, exact=True).check()
    page.get_by_role("button", name="Next").click()


def rate(page, item: str, label: str, rating: int) -> None:
    group = page.get_by_role("group", name=f"{item}. {label}")
    group.get_by_label(str(rating), exact=True).check()


def test_hand_the_tablet_over_for_gad7_then_rate_the_madrs(live_server, page):
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
    patient = make_patient(by=prescriber, mrn="KAP-7101", site=site, prescriber=prescriber)
    visited: list[str] = []
    page.on("framenavigated", lambda frame: visited.append(frame.url))

    page.goto(f"{live_server.url}/patients/{patient.pk}/questionnaires/send/")
    sign_in(page, device)
    page.get_by_role("heading", name="Send questionnaires").wait_for()
    assert_accessible(page)
    page.get_by_label(GAD7, exact=True).check()
    page.get_by_role("button", name="Hand this tablet to the patient").click()

    # The patient's tablet: no staff session, no navigation, no name, no token in any address.
    page.get_by_role("heading", name="Your questionnaires").wait_for()
    assert urlparse(page.url).path == "/kiosk/"
    assert_accessible(page)
    assert page.get_by_role("button", name="Sign out").count() == 0
    assert page.get_by_role("navigation", name="Main").count() == 0
    assert "Lovelace" not in page.content() and "KAP-7101" not in page.content()
    handed_over = len(visited)
    page.get_by_role("link", name=f"Start {GAD7}").click()
    page.get_by_text("Question 1 of 7", exact=True).wait_for()
    assert_accessible(page)
    for position in range(1, 8):
        answer(page, position, 7, "Several days")
    page.get_by_role("heading", name="Check your answers").wait_for()
    assert_accessible(page)
    page.get_by_role("button", name="Send my answers").click()

    page.get_by_text("Please hand the tablet back to the clinic staff.").wait_for()
    assert_accessible(page)
    gad7 = QuestionnaireResponse.objects.get(instrument="gad7")
    assert (gad7.total, gad7.severity, gad7.status) == (7, "mild", "submitted")
    assert QuestionnaireSet.objects.get().kiosk
    assert all(urlparse(url).path.startswith("/kiosk/") for url in visited[handed_over - 1 :])

    # Back leads to the refusal, never to the answers.
    page.go_back()
    page.get_by_role("heading", name="This link cannot be opened").wait_for()
    assert "Several days" not in page.content()
    assert_accessible(page)

    # The tablet is handed back: the prescriber signs in again and rates the MADRS at interview.
    page.go_forward()
    page.get_by_role("link", name="sign in").click()
    sign_in(page, device)
    page.get_by_role("heading", name="Today", exact=True).wait_for()
    page.goto(f"{live_server.url}/patients/{patient.pk}/questionnaires/")
    assert "Handed over on the clinic tablet" in page.content()
    page.get_by_role("link", name="Rate MADRS").click()
    page.get_by_role("heading", name="Montgomery-Asberg Depression Rating Scale").wait_for()
    assert_accessible(page)
    ratings = {"1": 4, "2": 4, "3": 3, "4": 2, "5": 1, "6": 3, "7": 2, "8": 3, "9": 2}
    for item, rating in ratings.items():
        rate(page, item, MADRS_LABELS[item], rating)
    page.get_by_role("button", name="Save the rating").click()  # item 10 forgotten
    page.get_by_text("Not saved yet: nothing has been stored.").wait_for()
    assert "Question 10 (Suicidal thoughts): missing" in page.content()
    assert page.get_by_role("group", name="1. Apparent sadness").get_by_label("4").is_checked()
    assert_accessible(page)
    assert not QuestionnaireResponse.objects.filter(instrument="madrs").exists()
    rate(page, "10", "Suicidal thoughts", 0)
    page.get_by_role("button", name="Save the rating").click()
    page.get_by_text("clinician-rated: total 24, moderate.").wait_for()
    assert_accessible(page)
    madrs = QuestionnaireResponse.objects.get(instrument="madrs")
    assert (madrs.total, madrs.severity, madrs.flags) == (24, "moderate", [])


@pytest.mark.django_db
@pytest.mark.parametrize(("drift", "used"), [(0, False), (0, True), (-1, True), (1, True)])
def test_the_code_is_one_the_server_accepts_whatever_its_drift(drift, used):
    site = Site.objects.create(name="Riverside Clinic")
    device = TOTPDevice.objects.create(
        user=make_staff("drreyes", Role.PRESCRIBER, [site]), name="phone", confirmed=True
    )
    generator = TOTP(device.bin_key, step=device.step, t0=device.t0, drift=drift)
    generator.time = time.time()
    device.drift, device.last_t = drift, generator.t() if used else -1
    device.save()
    assert device.verify_token(authenticator_code(device))
