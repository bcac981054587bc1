"""Issue 15, point 8: a new intake coordinator, on a tablet, registers a patient who may already be
registered. Every problem comes back in one round with a link to the existing chart; the MRN is the
clinic's next; then the intake asks no pregnancy question without reproductive potential and adds a
medication row without a save."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect
from django_otp.plugins.otp_totp.models import TOTPDevice

from kapstone.accounts.models import Site
from kapstone.accounts.services import create_staff
from kapstone.audit.models import AuditEntry
from kapstone.clinical.access import Role
from kapstone.intake import selectors as intake_selectors
from kapstone.patients.models import Patient
from tests.conftest import make_patient
from tests.functional.conftest import assert_accessible
from tests.functional.test_kiosk import PASSWORD, authenticator_code

pytestmark = pytest.mark.functional


def test_a_possible_duplicate_every_error_at_once_the_next_mrn_and_a_shorter_intake(
    live_server, page
):
    site = Site.objects.create(name="Riverside Clinic")
    coordinator = create_staff(
        by=None,
        username="jordan",
        first_name="Jordan",
        last_name="Whitfield",
        email="j@example.invalid",
        role=Role.INTAKE_COORDINATOR,
        password=PASSWORD,
        sites=[site],
    )
    device = TOTPDevice.objects.create(user=coordinator, name="phone", confirmed=True)
    existing = make_patient(
        by=coordinator,
        mrn="KAP-100001",
        site=site,
        given_name="Rosalind",
        family_name="Franklin",
        date_of_birth=dt.date(1980, 7, 25),
    )

    page.goto(f"{live_server.url}/")
    page.get_by_label("Username").fill("jordan")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Code").fill(authenticator_code(device))
    page.get_by_role("button", name="Verify").click()
    page.get_by_role("link", name="Register patient").click()
    page.get_by_role("heading", name="Register a patient").wait_for()
    assert (
        "KAP-100002" in page.get_by_text("Leave empty to have the clinic's next MRN").inner_text()
    )

    # The same person typed a little differently, a phone number short of a digit, no weight.
    page.get_by_label("Given name").fill("rosalind")
    page.get_by_label("Family name").fill("Franklin ")
    page.get_by_label("Date of birth").fill("1980-07-25")
    page.get_by_label("Sex at birth").select_option(label="Female")
    page.get_by_label("Phone", exact=True).fill("(207) 555-014")
    page.get_by_label("Referral source").select_option(label="Self-referral")
    page.get_by_label("Home site").select_option(label="Riverside Clinic")
    page.get_by_role("button", name="Register").click()

    # One round: the possible duplicate with a link to its chart, and every field's problem.
    page.get_by_role("heading", name="This person may already be registered").wait_for()
    link = page.get_by_role("link", name="Rosalind Franklin")
    assert link.get_attribute("href") == f"/patients/{existing.pk}/"
    assert (
        "KAP-100001"
        in page.get_by_role("region", name="This person may already be registered").inner_text()
    )
    assert page.get_by_text("“(207) 555-014” is not a valid phone number").is_visible()
    assert page.get_by_text("Enter the weight in kg: dose calculations need it.").is_visible()
    assert "This field is required" not in page.content()
    assert "Nothing has been saved" in page.get_by_role("alert").first.inner_text()
    assert Patient.objects.count() == 1
    assert_accessible(page)

    # A twin sister: the coordinator says so, fixes the two fields, and registers.
    page.get_by_label("This is a different person: register anyway").check()
    page.get_by_label("Why this is a different person").fill("Twin sister: same birthday, ID seen.")
    page.get_by_label("Phone", exact=True).fill("(207) 555-0143")
    page.get_by_label("Weight (kg)").fill("64.5")
    page.get_by_role("button", name="Register").click()
    page.get_by_text("Registered Rosalind Franklin (KAP-100002).").wait_for()
    twin = Patient.objects.get(mrn="KAP-100002")
    assert twin.phone == "+1 207-555-0143"
    entry = AuditEntry.objects.get(action="patient.registered", patient=twin)
    assert entry.after["registered_despite_possible_duplicate"].startswith("Twin sister")

    # The intake: no pregnancy question once there is no reproductive potential.
    page.goto(f"{live_server.url}/patients/{twin.pk}/intake/")
    title = "Pregnancy, breastfeeding and reproductive potential"
    page.get_by_role("link", name=f"Fill in {title}").click()
    page.get_by_role("heading", name=title, exact=True).wait_for()
    assert page.get_by_label("Pregnancy", exact=True).is_visible()
    page.get_by_label("Reproductive potential?").select_option(label="No")
    # The page's script may still be starting: wait for it to hide the question.
    expect(page.get_by_label("Pregnancy", exact=True)).to_be_hidden()
    page.get_by_label("Breastfeeding?").select_option(label="No")
    assert_accessible(page)
    page.get_by_role("button", name=f"Save {title.lower()}").click()
    page.get_by_text(f"{title} saved.").wait_for()
    facts = intake_selectors.current_intake(twin).facts
    assert facts["reproductive"] == {
        "reproductive_potential": False,
        "pregnancy": "not_pregnant",
        "breastfeeding": False,
    }

    # A fourth medication: one tap adds a row, no save-and-come-back.
    page.get_by_role("link", name="Fill in Current medications").click()
    page.get_by_role("heading", name="Current medications", exact=True, level=2).wait_for()
    assert "Save, and new empty rows appear" not in page.inner_text("main")
    for number, drug in enumerate(("amlodipine", "sertraline", "lamotrigine"), start=1):
        page.get_by_role("group", name=f"Medication {number}").get_by_label("Medication").fill(drug)
    page.get_by_role("button", name="Add a medication").click()
    fourth = page.get_by_role("group", name="Medication 4")
    fourth.get_by_label("Medication").fill("buspirone")
    fourth.get_by_label("Daily dose (mg)").fill("30")
    assert_accessible(page)
    page.get_by_role("button", name="Save current medications").click()
    page.get_by_text("Current medications saved.").wait_for()
    medications = intake_selectors.current_intake(twin).facts["medications"]
    assert [m["name"] for m in medications] == [
        "amlodipine",
        "sertraline",
        "lamotrigine",
        "buspirone",
    ]
    assert medications[3]["daily_dose_mg"] == 30
