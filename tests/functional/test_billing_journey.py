"""On a tablet: a signed retreat day (a dosing session signed at the chair, its integration note
signed) has become proposed charges; the biller finalises them, prints the superbill, makes a claim,
prints its CMS-1500 and exports its 837P (both read back: pypdf, and pyx12 accepting the file),
records the claim as submitted and a payment, and the statement balances to zero."""

from __future__ import annotations

from pathlib import Path

import pytest

from kapstone.accounts.models import Site
from kapstone.billing import selectors
from kapstone.clinical.access import Modality, Role
from tests.conftest import Clinic, make_patient, make_staff
from tests.functional.conftest import assert_accessible
from tests.functional.test_ledger import sign_in
from tests.functional.test_suicide_risk_alert import staff_member
from tests.shell.billing_support import prepared_clinic, signed_retreat_day
from tests.shell.billing_x12_support import pyx12_verdict
from tests.shell.test_billing import pdf_text

pytestmark = pytest.mark.functional


def _clinic() -> tuple[Clinic, str]:
    site = Site.objects.create(name="Riverside")
    staff = {
        role.value: make_staff(role.value, role, [site])
        for role in (Role.NURSE, Role.PRESCRIBER, Role.INTAKE_COORDINATOR)
    }
    staff["therapist"] = make_staff(
        "therapist", Role.THERAPIST, [site], modalities=frozenset({Modality.EMDR})
    )
    staff["biller"], secret = staff_member("kpark", Role.BILLER, site, "Kim", "Park")
    patient = make_patient(
        by=staff["intake_coordinator"],
        mrn="MRN-2001",
        site=site,
        prescriber=staff["prescriber"],
        therapist=staff["therapist"],
        nurse=staff["nurse"],
        address="12 Elm Street, Albany, NY 12208",
    )
    return Clinic([site], staff, {}, patient, None), secret


def _downloaded(page, link_name: str) -> bytes:  # type: ignore[no-untyped-def]
    with page.expect_download() as download:
        page.get_by_role("link", name=link_name).click()
    return Path(download.value.path()).read_bytes()


def test_a_signed_retreat_day_is_billed_claimed_paid_and_balances(live_server, page):
    clinic, secret = _clinic()
    prepared_clinic(clinic)  # the site's prices and NPIs; the patient's diagnoses F33.2, F41.1
    signed_retreat_day(clinic)  # a 40-minute infusion, then 60 minutes of EMDR integration

    sign_in(page, live_server.url, "kpark", secret)
    page.get_by_role("link", name="Billing").click()
    page.get_by_role("heading", name="Charges to review").wait_for()
    queue = page.locator("main").inner_text()
    for code in ("96365", "J3490", "90837"):
        assert code in queue, code
    assert_accessible(page)
    for code in ("96365", "J3490", "90837"):
        page.get_by_role("button", name=f"Finalise {code} for Ada Lovelace").click()
        page.get_by_text(f"{code} x1 for Ada Lovelace finalised.").wait_for()
    assert "Nothing to review." in page.locator("main").inner_text()

    page.get_by_role("link", name="Ada Lovelace").first.click()
    page.get_by_role("heading", name="Account: Ada Lovelace").wait_for()
    assert_accessible(page)
    superbill = pdf_text(_downloaded(page, "Superbill (PDF)"))
    for expected in ("1234567893", "123456789", "F33.2", "96365", "J3490", "90837", "$680.00"):
        assert expected in superbill, expected

    page.get_by_role("link", name="Make a claim").click()
    page.get_by_role("heading", name="Make a claim: Ada Lovelace").wait_for()
    page.get_by_label("90837", exact=False).uncheck()  # the therapist's line: a claim of its own
    page.get_by_label("Member ID").fill("W123456789")
    assert page.get_by_label("City").input_value() == "Albany"  # from the registry's address
    page.get_by_role("button", name="Make the claim").click()
    page.get_by_text("send it, then record it as submitted").wait_for()
    assert_accessible(page)

    form = pdf_text(_downloaded(page, "CMS-1500 (PDF)"))
    for expected in ("CMS-1500 (02/12)", "W123456789", "Lovelace, Ada", "A. F33.2", "$500.00"):
        assert expected in form, expected
    accepted, ack = pyx12_verdict(_downloaded(page, "837P file").decode("ascii"))
    assert accepted, ack

    page.get_by_label("Status").select_option("submitted")
    page.get_by_role("button", name="Record it").click()
    page.get_by_text("Claim status recorded.").wait_for()
    assert page.locator("[data-status]").inner_text() == "Submitted"

    page.get_by_role("link", name="Account").click()
    page.get_by_role("heading", name="Account: Ada Lovelace").wait_for()
    page.locator("#id_amount").fill("680.00")
    page.locator("#id_method").select_option("card")
    page.get_by_role("button", name="Post it").click()
    page.get_by_text("Posted to the account.").wait_for()
    assert page.locator("[data-total=charged]").inner_text() == "$680.00"
    assert page.locator("[data-total=paid]").inner_text() == "$680.00"
    assert page.locator("[data-total=balance]").inner_text() == "$0.00"
    account = selectors.account_of(clinic.on_team)
    assert (
        account.balance_cents
        == account.charged_cents - account.paid_cents - account.adjusted_cents
        == 0
    )
