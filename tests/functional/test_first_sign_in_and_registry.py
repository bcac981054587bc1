"""A new coordinator signs in with TOTP for the first time, registers a patient, finds and opens them."""

from __future__ import annotations

import base64
import time

import pytest
from django_otp.oath import TOTP

from kapstone.accounts.models import Site
from kapstone.accounts.services import create_staff
from kapstone.audit.models import AuditEntry
from kapstone.clinical.access import Role
from kapstone.patients.models import Patient
from tests.functional.conftest import assert_accessible

pytestmark = pytest.mark.functional
PASSWORD = "a-brand-new-passphrase-1"


def authenticator_code(secret: str) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    generator = TOTP(key, step=30, t0=0, digits=6)
    generator.time = time.time()
    return f"{generator.token():06d}"


def test_new_user_signs_in_with_totp_registers_finds_and_opens_a_patient(live_server, page):
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
        credentials="MD",
    )
    create_staff(
        by=None,
        username="jordan",
        first_name="Jordan",
        last_name="Whitfield",
        email="j@example.invalid",
        role=Role.INTAKE_COORDINATOR,
        password=PASSWORD,
        sites=[site],
    )

    page.goto(f"{live_server.url}/")
    page.wait_for_url("**/accounts/sign-in/**")
    assert_accessible(page)
    page.get_by_label("Username").fill("jordan")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()

    page.wait_for_url("**/accounts/mfa/set-up/")
    assert_accessible(page)
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code").fill(authenticator_code(secret))
    page.get_by_role("button", name="Confirm").click()

    page.get_by_role("heading", name="Your backup codes").wait_for()
    assert page.locator("#backup-codes li").count() == 10
    assert_accessible(page)
    page.get_by_role("link", name="I have saved them").click()

    page.get_by_role("heading", name="Today", exact=True).wait_for()
    assert_accessible(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Register patient").click()
    page.get_by_role("heading", name="Register a patient").wait_for()
    assert_accessible(page)

    page.get_by_label("MRN").fill("KAP-9001")
    page.get_by_label("Given name").fill("Imogen")
    page.get_by_label("Family name").fill("Castellanos")
    page.get_by_label("Date of birth").fill("1988-04-17")
    page.get_by_label("Sex at birth").select_option("female")
    page.get_by_label("Referral source").select_option("psychiatrist")
    page.get_by_label("Home site").select_option(label="Riverside Clinic")
    page.get_by_label("Weight (kg)").fill("301")  # a typo first: refused, nothing lost
    page.get_by_label("Prescriber").select_option(label=prescriber.display_name)
    page.get_by_role("button", name="Register").click()
    page.get_by_text("outside 30–300 kg").wait_for()
    assert Patient.objects.count() == 0
    assert page.get_by_label("Family name").input_value() == "Castellanos"
    assert_accessible(page)
    page.get_by_label("Weight (kg)").fill("61.4")
    page.get_by_role("button", name="Register").click()

    page.locator("#chart-mrn").wait_for()
    assert page.locator("#chart-mrn").inner_text() == "KAP-9001"
    assert "61.4 kg" in page.content()
    assert_accessible(page)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    page.get_by_label("Name or MRN").fill("castell")
    page.get_by_role("button", name="Find").click()
    page.get_by_role("link", name="Castellanos, Imogen").click()
    page.locator("#chart-mrn").wait_for()
    assert_accessible(page)

    patient = Patient.objects.get(mrn="KAP-9001")
    assert AuditEntry.objects.filter(action="chart.viewed", patient=patient).count() == 2
    assert AuditEntry.objects.filter(action="mfa.enrolled", actor__username="jordan").exists()
