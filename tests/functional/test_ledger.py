"""On a tablet: a nurse receives ketamine with a witness, draws a dose for a patient's session and
records the waste witnessed by a colleague who types their own password on the same screen,
counts the safe and finds it short; the medical director explains and resolves the discrepancy and
downloads the dispensing log."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone

from kapstone.accounts.models import Site
from kapstone.clinical.access import Role
from kapstone.dosing.services import book_dosing_session
from kapstone.ledger import services
from kapstone.ledger.models import DrawAccount, LedgerEntry, StockBalance
from tests.conftest import make_patient
from tests.functional.conftest import assert_accessible, signed_in
from tests.functional.test_suicide_risk_alert import PASSWORD, staff_member

pytestmark = pytest.mark.functional


def sign_in(page, base: str, username: str, secret: str) -> None:
    """On the home page, signed in with the authenticator ``secret``: the form and the code are
    walked where signing in is the subject (test_first_sign_in_and_registry, test_kiosk)."""
    signed_in(page, base, username, secret)


def witness_signs(page, username: str) -> None:
    """The colleague takes the tablet and types their own credentials."""
    page.get_by_label("Witness's username").fill(username)
    page.get_by_label("Witness's password or authenticator code").fill(PASSWORD)


def test_receive_dose_with_witnessed_waste_count_resolve_and_download(live_server, page, tmp_path):
    base = live_server.url
    site = Site.objects.create(name="Riverside Clinic")
    nurse, nurse_secret = staff_member("mokafor", Role.NURSE, site, "Mary", "Okafor")
    staff_member("tnguyen", Role.NURSE, site, "Tom", "Nguyen")
    prescriber, _ = staff_member("drreyes", Role.PRESCRIBER, site, "Daniel", "Reyes")
    director, director_secret = staff_member(
        "drpatel", Role.MEDICAL_DIRECTOR, site, "Asha", "Patel"
    )
    patient = make_patient(
        by=prescriber,
        mrn="KAP-7201",
        site=site,
        given_name="Noor",
        family_name="Haddad",
        prescriber=prescriber,
        nurse=nurse,
    )
    now = timezone.now()
    session = book_dosing_session(
        by=prescriber, patient=patient, starts_at=now + dt.timedelta(minutes=15), now=now
    )
    product = services.add_product(
        by=director,
        name="Ketamine HCl 50 mg/mL, 10 mL vial",
        substance="ketamine",
        form="vial",
        concentration_mg_per_ml=Decimal("50"),
        volume_ml=Decimal("10"),
    )
    location = services.add_location(by=director, site=site, name="Main safe")

    # Receiving two vials, witnessed by a colleague at the same screen.
    sign_in(page, base, "mokafor", nurse_secret)
    page.goto(f"{base}/ledger/receive/")
    page.get_by_label("Into").select_option(str(location.pk))
    page.get_by_label("Product").select_option(str(product.pk))
    page.get_by_label("Lot number").fill("K2026A")
    page.get_by_label("Expiry date").fill("2030-06-30")
    page.get_by_label("How many vials, devices, lozenges or tablets").fill("2")
    page.get_by_label("Supplier").fill("McKesson")
    page.get_by_label("Invoice or DEA order form number").fill("CSOS-88213")
    witness_signs(page, "tnguyen")
    assert_accessible(page)
    page.get_by_role("button", name="Record the receipt").click()
    page.get_by_text("Received 1000 mg of lot K2026A into Riverside Clinic · Main safe").wait_for()
    page.get_by_role("heading", name="Controlled-substance ledger").wait_for()
    assert_accessible(page)

    # Drawing 35 mg for Noor's session, then 30 mg given and 5 mg wasted.
    page.get_by_role("navigation", name="Ledger").get_by_role(
        "link", name="Draw for a dose"
    ).click()
    page.get_by_label("Dosing session").select_option(str(session.pk))
    stock = StockBalance.objects.get()
    page.get_by_label("From").select_option(str(stock.pk))
    page.get_by_label("Amount").fill("35")
    assert_accessible(page)
    page.get_by_role("button", name="Draw").click()
    page.get_by_role("heading", name="Draw #2 for Noor Haddad").wait_for()
    page.get_by_text("35 mg still to record").wait_for()
    # What is given is charted at the chair side, which posts it here; the ledger takes no typed
    # 'given' amount (tests/functional/test_mar_ledger.py walks that), only waste and returns.
    assert page.get_by_label("Given (mg)").count() == 0
    page.get_by_label("Wasted (mg)").fill("5")
    page.get_by_role("button", name="Record on the ledger").click()
    page.get_by_text("Waste and returns are witnessed: the witness's username.").wait_for()
    assert_accessible(page)
    page.get_by_label("Wasted (mg)").fill("5")
    witness_signs(page, "tnguyen")
    page.get_by_role("button", name="Record on the ledger").click()
    page.get_by_text("Recorded on the ledger.").wait_for()
    page.get_by_text("30 mg still to record").wait_for()
    services.give_from_draw(
        by=nurse, draw=LedgerEntry.objects.get(kind="draw"), quantity=30_000
    )  # the 30 mg dose charted at the chair
    page.reload()
    page.get_by_text("Closed: every amount accounted for").wait_for()
    assert_accessible(page)
    draw = LedgerEntry.objects.get(kind="draw")
    assert DrawAccount.objects.get(draw=draw).wasted == 5_000
    assert LedgerEntry.objects.get(kind="waste").witness.username == "tnguyen"

    # The end-of-shift count finds 960 mg where the book says 965 mg.
    page.get_by_role("navigation", name="Ledger").get_by_role("link", name="Count").click()
    page.get_by_label("Location to count").select_option(str(location.pk))
    page.get_by_role("button", name="Start the count").click()
    page.get_by_label("Ketamine HCl 50 mg/mL, 10 mL vial, lot K2026A (mg)").fill("960")
    assert_accessible(page)
    page.get_by_role("button", name="Save the count").click()
    page.get_by_text("1 discrepancy opened for the medical director").wait_for()
    assert page.get_by_role("row").filter(has_text="K2026A").inner_text().count("-5 mg") == 1
    assert_accessible(page)
    page.get_by_role("button", name="Sign out").click()

    # The medical director sees it on the ledger, explains it and brings the book to the count.
    sign_in(page, base, "drpatel", director_secret)
    page.goto(f"{base}/ledger/")
    row = page.get_by_role("row").filter(has_text="K2026A").first
    row.get_by_role("link", name="Resolve the discrepancy in lot K2026A").click()
    page.get_by_role("heading", name="Resolve a count discrepancy").wait_for()
    assert_accessible(page)
    page.get_by_label("Explanation").fill(
        "Vial overfill estimate at receipt; waste on 12 Nov under-recorded. Staff re-trained."
    )
    page.get_by_role("button", name="Resolve the discrepancy").click()
    page.get_by_text("Discrepancy resolved.").wait_for()
    page.get_by_text("None: every count matches the book or has been explained.").wait_for()
    assert StockBalance.objects.get().balance == 960_000

    # The dispensing log, downloaded as CSV.
    page.get_by_role("link", name="Dispensing log").click()
    page.get_by_label("Patient MRN").fill("KAP-7201")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("cell", name="Noor Haddad").wait_for()
    assert_accessible(page)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    saved = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert [
        (r["Patient"], r["MRN"], r["Given"], r["Wasted"], r["Waste witness"]) for r in rows
    ] == [("Noor Haddad", "KAP-7201", "30 mg", "5 mg", "Tom Nguyen")]
