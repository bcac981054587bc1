"""The ledger's pages: forms to services, witnesses on the same screen, reports on screen, CSV and PDF."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from kapstone.audit.models import AuditEntry
from kapstone.clinical.ledger_entries import micrograms
from kapstone.ledger import services
from kapstone.ledger.models import (
    Discrepancy,
    DrawAccount,
    LedgerEntry,
    Product,
    StockBalance,
    StorageLocation,
)
from tests.conftest import PASSWORD
from tests.shell.ledger_support import ketamine_vial, receive_vials, safe, session_for

WITNESS = {"witness": "prescriber", "witness_secret": PASSWORD}


def pdf_text(response) -> str:
    """The PDF's words, with table cells' line wrapping undone."""
    pages = PdfReader(io.BytesIO(response.content)).pages
    return " ".join(" ".join(page.extract_text() for page in pages).split())


@pytest.fixture
def stocked(clinic):
    return receive_vials(
        by=clinic.staff["nurse"], witness=clinic.staff["prescriber"], site=clinic.sites[0]
    )


@pytest.fixture
def dosed(clinic, stocked):
    """35 mg drawn for the on-team patient's session: 30 given, 5 wasted."""
    nurse = clinic.staff["nurse"]
    draw = services.draw_for_session(
        by=nurse,
        session=session_for(clinic.on_team),
        location=stocked.location,
        lot=stocked.lot,
        quantity=micrograms(35),
    )
    services.record_dose(
        by=nurse,
        draw=draw,
        given=micrograms(30),
        wasted=micrograms(5),
        witness=clinic.staff["prescriber"],
    )
    return draw


def test_products_and_locations_are_added_from_their_pages(clinic, as_role):
    client = as_role("nurse")
    response = client.post(
        reverse("ledger:products"),
        {
            "name": "Ketamine HCl 100 mg/mL, 5 mL vial",
            "substance": "ketamine",
            "form": "vial",
            "concentration_mg_per_ml": "100",
            "volume_ml": "5",
        },
    )
    assert response.status_code == 302
    assert Product.objects.get().per_container == micrograms(500)
    response = client.post(
        reverse("ledger:products"),
        {"name": "Bad", "substance": "esketamine", "form": "vial", "strength_mg": "28"},
    )
    assert "Esketamine comes as nasal spray devices" in response.content.decode()
    response = client.post(
        reverse("ledger:locations"), {"site": clinic.sites[0].pk, "name": "Main safe"}
    )
    assert response.status_code == 302
    assert str(StorageLocation.objects.get()) == "Riverside · Main safe"


def test_receiving_stock_asks_the_witness_for_their_own_credentials(clinic, as_role):
    nurse = clinic.staff["nurse"]
    product = ketamine_vial(nurse)
    location = safe(nurse, clinic.sites[0])
    client = as_role("nurse")
    form = {
        "location": location.pk,
        "product": product.pk,
        "lot_number": "K555",
        "expires_on": "2030-05-31",
        "containers": "4",
        "supplier": "Henry Schein",
        "reference": "222-000123",
        "patient_mrn": "",
    }
    page = client.get(reverse("ledger:receive")).content.decode()
    assert "Witness&#x27;s password or authenticator code" in page
    response = client.post(reverse("ledger:receive"), form | WITNESS | {"witness_secret": "nope"})
    assert response.status_code == 200
    assert "not Prescriber Tester&#x27;s password" in response.content.decode()
    assert not LedgerEntry.objects.exists()
    response = client.post(reverse("ledger:receive"), form | WITNESS)
    assert response.status_code == 302
    entry = LedgerEntry.objects.get()
    assert (entry.quantity, entry.witness) == (4 * micrograms(500), clinic.staff["prescriber"])
    assert entry.receipt_detail.reference == "222-000123"


def test_a_dose_is_drawn_then_given_and_wasted_with_a_witness(clinic, stocked, as_role):
    session = session_for(clinic.on_team)
    client = as_role("nurse")
    page = client.get(reverse("ledger:draw")).content.decode()
    assert "Ada Lovelace (MRN-1001)" in page
    balance = StockBalance.objects.get()
    response = client.post(
        reverse("ledger:draw"), {"session": session.pk, "stock": balance.pk, "amount": "35"}
    )
    draw = LedgerEntry.objects.get(kind="draw")
    assert response["Location"] == reverse("ledger:draw_detail", args=[draw.seq])
    page = client.get(response["Location"]).content.decode()
    assert "35 mg still to record" in page
    assert AuditEntry.objects.filter(action="ledger.draw_viewed", patient=clinic.on_team).exists()
    url = reverse("ledger:draw_detail", args=[draw.seq])
    # What is given is not typed here: charting the dose at the chair posts it.
    assert 'name="given"' not in page and "chair-side record" in page
    services.give_from_draw(by=clinic.staff["nurse"], draw=draw, quantity=micrograms(30))
    assert "Given</dt><dd>30 mg" in client.get(url).content.decode()
    response = client.post(url, {"given": "35", "wasted": "5"})
    assert "Waste and returns are witnessed" in response.content.decode()
    response = client.post(url, {"wasted": "5.5"} | WITNESS)
    assert "more than the 5 mg of this draw still to account for" in response.content.decode()
    assert LedgerEntry.objects.count() == 3
    response = client.post(url, {"given": "35", "wasted": "5"} | WITNESS)
    assert response.status_code == 302
    assert DrawAccount.objects.get(draw=draw).given == micrograms(30)
    assert DrawAccount.objects.get(draw=draw).closed
    assert "Closed: every amount accounted for" in client.get(url).content.decode()


def test_waste_from_stock_and_destruction_are_witnessed_on_the_form(clinic, stocked, as_role):
    client = as_role("nurse")
    balance = StockBalance.objects.get()
    waste = {"stock": balance.pk, "amount": "500", "reason": "vial dropped and broke"}
    response = client.post(reverse("ledger:stock_waste"), waste | WITNESS | {"witness": "nurse"})
    assert "The witness must be a second staff member, not you." in response.content.decode()
    response = client.post(
        reverse("ledger:stock_waste"), waste | WITNESS | {"witness_secret": "nope"}
    )
    assert "not Prescriber Tester&#x27;s password" in response.content.decode()
    assert LedgerEntry.objects.count() == 1
    response = client.post(reverse("ledger:stock_waste"), waste | WITNESS)
    assert response["Location"] == reverse("ledger:dashboard")
    wasted = LedgerEntry.objects.get(kind="waste")
    assert (wasted.quantity, wasted.witness, wasted.reason) == (
        micrograms(500),
        clinic.staff["prescriber"],
        "vial dropped and broke",
    )
    destroy = {"stock": balance.pk, "amount": "500", "reason": "other", "note": ""}
    response = client.post(reverse("ledger:destroy"), destroy | WITNESS)
    assert "Say why, when the reason is &#x27;other&#x27;." in response.content.decode()
    assert LedgerEntry.objects.count() == 2
    response = client.post(reverse("ledger:destroy"), destroy | {"note": "recalled"} | WITNESS)
    assert response["Location"] == reverse("ledger:dashboard")
    gone = LedgerEntry.objects.get(kind="destruction")
    assert (gone.destruction_reason, gone.reason, gone.witness) == (
        "other",
        "recalled",
        clinic.staff["prescriber"],
    )
    assert StockBalance.objects.get().balance == 0


def test_a_count_with_a_discrepancy_is_resolved_by_the_medical_director(clinic, stocked, as_role):
    client = as_role("nurse")
    url = reverse("ledger:count")
    assert "Location to count" in client.get(url).content.decode()
    page = client.get(url, {"location": stocked.location.pk}).content.decode()
    assert "1000 mg" not in page  # a blind count: the book is shown only afterwards
    field = f"lot_{stocked.lot.pk}"
    response = client.post(url, {"location": stocked.location.pk, field: "995"})
    item = Discrepancy.objects.get()
    assert response["Location"] == reverse("ledger:count_detail", args=[item.line.count_id])
    assert "-5 mg" in client.get(response["Location"]).content.decode()
    assert (
        "Waiting for the medical director"
        in client.get(reverse("ledger:dashboard")).content.decode()
    )
    director = as_role("medical_director")
    assert "Resolve" in director.get(reverse("ledger:dashboard")).content.decode()
    response = director.post(
        reverse("ledger:resolve", args=[item.pk]),
        {"explanation": "Residual in a vial wasted on Friday, not recorded", "adjust_book": "on"},
    )
    assert response.status_code == 302
    assert StockBalance.objects.get().balance == micrograms(995)
    dashboard = director.get(reverse("ledger:dashboard")).content.decode()
    assert "None: every count matches" in dashboard
    # The warning window is the core's policy, shown rather than restated.
    assert "no lot on hand expires within 30 days." in dashboard


def test_the_dispensing_log_filters_by_patient_and_downloads_as_csv_and_pdf(clinic, dosed, as_role):
    client = as_role("prescriber")
    url = reverse("ledger:report_dispensing")
    page = client.get(url, {"patient": "mrn-1001"}).content.decode()
    assert "Ada Lovelace" in page
    response = client.get(url, {"patient": "MRN-1001", "format": "csv"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 1
    assert rows[0]["Patient"] == "Ada Lovelace"
    assert (rows[0]["Drawn amount"], rows[0]["Given"], rows[0]["Wasted"]) == (
        "35 mg",
        "30 mg",
        "5 mg",
    )
    assert rows[0]["Waste witness"] == "Prescriber Tester"
    assert rows[0]["Status"] == "closed"
    exported = AuditEntry.objects.filter(action="ledger.report_exported").latest("seq")
    assert exported.patient == clinic.on_team
    empty = client.get(url, {"patient": "MRN-1002", "format": "csv"}).content.decode()
    assert len(list(csv.reader(io.StringIO(empty)))) == 1  # the header only
    response = client.get(url, {"format": "pdf"})
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response)
    assert "Dispensing log" in text
    assert "Ada Lovelace" in text
    assert "MRN-1001" in text
    assert "Unknown" not in client.get(url, {"patient": "nobody"}).content.decode()
    assert "No patient has the MRN" in client.get(url, {"patient": "nobody"}).content.decode()


def test_inventory_biennial_waste_and_discrepancy_reports(clinic, dosed, stocked, as_role):
    client = as_role("administrator")
    inventory = client.get(reverse("ledger:report_inventory"), {"format": "csv"})
    (row,) = csv.DictReader(io.StringIO(inventory.content.decode()))
    assert (row["Lot"], row["On hand"], row["mg"]) == ("K123", "965 mg", "965")
    biennial = reverse("ledger:report_biennial")
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    before = client.get(biennial, {"as_of": f"{yesterday:%Y-%m-%d}", "format": "csv"})
    assert len(list(csv.reader(io.StringIO(before.content.decode())))) == 1
    today = client.get(biennial, {"as_of": f"{timezone.localdate():%Y-%m-%d}", "format": "pdf"})
    text = pdf_text(today)
    assert "Biennial inventory as of close of business" in text
    assert "965 mg" in text
    waste = client.get(reverse("ledger:report_waste"), {"format": "csv"}).content.decode()
    (row,) = csv.DictReader(io.StringIO(waste))
    assert (row["What"], row["Amount"], row["Witness"]) == (
        f"waste of draw #{dosed.seq}",
        "5 mg",
        "Prescriber Tester",
    )
    services.count_stock(
        by=clinic.staff["nurse"], location=stocked.location, physical={stocked.lot: 0}
    )
    log = client.get(reverse("ledger:report_discrepancies")).content.decode()
    assert "-965 mg" in log
    assert "open" in log


def test_a_mistaken_entry_is_reversed_with_a_reason(clinic, dosed, as_role):
    client = as_role("nurse")
    given = LedgerEntry.objects.get(kind="administered")
    response = client.post(
        reverse("ledger:reverse", args=[given.seq]), {"reason": "typo"} | WITNESS
    )
    assert "charted on the chair-side record" in response.content.decode()
    wasted = LedgerEntry.objects.get(kind="waste")
    url = reverse("ledger:reverse", args=[wasted.seq])
    page = client.get(url).content.decode()
    assert "never edited or deleted" in page and "its reversal is too" in page
    response = client.post(url, {"reason": ""})
    assert "Say what was wrong with the entry." in response.content.decode()
    response = client.post(url, {"reason": "5 mg was typed for 4 mg"})
    assert "A second staff member must witness" in response.content.decode()
    response = client.post(url, {"reason": "5 mg was typed for 4 mg"} | WITNESS)
    assert response.status_code == 302
    wasted.refresh_from_db()
    given = wasted
    assert given.reversed_by.reason == "5 mg was typed for 4 mg"
    assert given.reversed_by.witness == clinic.staff["prescriber"]
    assert DrawAccount.objects.get(draw=dosed).remaining == micrograms(5)
    assert "Already reversed by" in client.get(url).content.decode()
    page = client.get(reverse("ledger:entries")).content.decode()
    assert f"reversed by #{given.reversed_by.seq}" in page


def test_transfer_destroy_and_stock_waste_pages(clinic, stocked, as_role):
    harbour = safe(clinic.staff["nurse"], clinic.sites[1], "Harbour safe")
    client = as_role("nurse")
    balance = StockBalance.objects.get()
    response = client.post(
        reverse("ledger:transfer"),
        {"send": "1", "stock": balance.pk, "amount": "500", "to_location": harbour.pk},
    )
    assert response.status_code == 302
    sent = LedgerEntry.objects.get(kind="transfer_out")
    assert "Receive" in client.get(reverse("ledger:transfer")).content.decode()
    response = client.post(reverse("ledger:transfer"), {"receive": sent.seq})
    assert StockBalance.objects.get(location=harbour).balance == micrograms(500)
    response = client.post(
        reverse("ledger:stock_waste"),
        {"stock": balance.pk, "amount": "0.0001", "reason": "dropped"} | WITNESS,
    )
    assert "at most 3 decimals" in response.content.decode()
    response = client.post(
        reverse("ledger:stock_waste"),
        {"stock": balance.pk, "amount": "100", "reason": "vial dropped"} | WITNESS,
    )
    assert response.status_code == 302
    response = client.post(
        reverse("ledger:destroy"),
        {"stock": balance.pk, "amount": "400", "reason": "damaged", "note": ""} | WITNESS,
    )
    assert response.status_code == 302
    balance.refresh_from_db()
    assert balance.balance == 0
    assert set(LedgerEntry.objects.values_list("kind", flat=True)) == {
        "receipt",
        "transfer_out",
        "transfer_in",
        "waste",
        "destruction",
    }


def test_a_long_dispensing_log_pdf_is_paged_with_its_totals(clinic, as_role):
    """80 draws of 35 mg (30 given, 5 wasted): several pages, each with its headings and page
    number, and the totals on the last."""
    nurse, prescriber = clinic.staff["nurse"], clinic.staff["prescriber"]
    stock = receive_vials(by=nurse, witness=prescriber, site=clinic.sites[0], vials=10)
    start = timezone.now() - dt.timedelta(days=200)
    for n in range(80):
        draw = services.draw_for_session(
            by=nurse,
            session=session_for(clinic.on_team, now=start + dt.timedelta(days=2 * n)),
            location=stock.location,
            lot=stock.lot,
            quantity=micrograms(35),
            now=start + dt.timedelta(days=2 * n, minutes=5),
        )
        services.record_dose(
            by=nurse,
            draw=draw,
            given=micrograms(30),
            wasted=micrograms(5),
            witness=prescriber,
            now=start + dt.timedelta(days=2 * n, minutes=50),
        )
    response = as_role("prescriber").get(reverse("ledger:report_dispensing"), {"format": "pdf"})
    assert response["Content-Type"] == "application/pdf"
    pages = PdfReader(io.BytesIO(response.content)).pages
    assert len(pages) >= 3
    texts = [" ".join(p.extract_text().split()) for p in pages]
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {len(pages)}" in text
        assert "Drawn amount" in text and "Waste witness" in text  # headings on every page
    assert sum(t.count("MRN-1001") for t in texts) == 80
    # 80 draws of 35 mg: 2800 mg drawn, 2400 given, 400 wasted, none returned.
    last = texts[-1]
    assert "Total" in last and "80 draws" in last
    for amount in ("2800 mg", "2400 mg", "400 mg", "0 mg"):
        assert amount in last, amount
    assert all("Total" not in t for t in texts[:-1])
