"""Plausibility limits in the controlled-substance ledger (issue 14, point 7): a receipt of 100,000
vials and a lot expiring in 9999 are refused by the form and by the service, numbers typed with
superscripts or thousands of digits get a message instead of a 500, and nothing is stored."""

from __future__ import annotations

import datetime as dt
import html
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from kapstone.audit.models import AuditEntry
from kapstone.errors import InputError
from kapstone.ledger import services
from kapstone.ledger.models import LedgerEntry, Lot, Product
from kapstone.ledger.units import parse
from tests.conftest import PASSWORD
from tests.shell.ledger_support import ketamine_vial, receive_vials, safe

WITNESS = {"witness": "prescriber", "witness_secret": PASSWORD}


def _counts() -> tuple[int, int, int, int]:
    return (
        LedgerEntry.objects.count(),
        Lot.objects.count(),
        Product.objects.count(),
        AuditEntry.objects.count(),
    )


@pytest.fixture
def receipt(clinic):  # type: ignore[no-untyped-def]
    nurse = clinic.staff["nurse"]
    product = ketamine_vial(nurse)
    location = safe(nurse, clinic.sites[0])
    form = {
        "location": location.pk,
        "product": product.pk,
        "lot_number": "K555",
        "expires_on": (timezone.localdate() + dt.timedelta(days=700)).isoformat(),
        "containers": "4",
        "supplier": "Henry Schein",
        "reference": "222-000123",
        "patient_mrn": "",
    }
    return product, location, form


@pytest.mark.parametrize(
    ("typed", "field_says"),
    [
        ({"containers": "100000"}, "must be above 0 to 2000; 100000 is not plausible"),
        ({"containers": "0"}, "must be above 0 to 2000"),
        ({"containers": "²"}, "Enter the number of vials, devices, lozenges or tablets, e.g. 10."),
        ({"containers": "4" * 5000}, "That is too long"),
        ({"expires_on": "9999-12-31"}, "is more than 5 years away; check the date on the box"),
    ],
)
def test_the_receipt_form_refuses_implausible_stock_and_stores_nothing(
    clinic, receipt, as_role, typed, field_says
):
    _, _, form = receipt
    client = as_role("nurse")
    before = _counts()
    response = client.post(reverse("ledger:receive"), form | WITNESS | typed)
    assert response.status_code == 200
    assert field_says in html.unescape(response.content.decode())
    assert _counts() == before


def test_the_receipt_service_refuses_them_too(clinic, receipt):
    product, location, _ = receipt
    nurse, witness = clinic.staff["nurse"], clinic.staff["prescriber"]
    before = _counts()
    with pytest.raises(InputError) as refused:
        services.receive_stock(
            by=nurse,
            witness=witness,
            location=location,
            product=product,
            lot_number="K9",
            expires_on=dt.date(9999, 12, 31),
            quantity=100_000 * product.per_container,
            supplier="McKesson",
            reference="CSOS-1",
        )
    assert set(refused.value.errors) == {"containers", "expires_on"}
    assert "at most 2,000" in refused.value.errors["containers"][0]
    assert "more than 5 years away" in refused.value.errors["expires_on"][0]
    assert _counts() == before
    # 2,000 vials expiring within five years is a plausible delivery.
    receive_vials(by=nurse, witness=witness, site=clinic.sites[0], vials=2000)


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ({"concentration_mg_per_ml": "0"}, "must be from 0.1 to 100 mg/mL"),
        ({"concentration_mg_per_ml": "5²"}, "Enter the concentration in mg/mL, e.g. 10."),
        ({"volume_ml": "100000"}, "must be above 0 to 100 mL"),
    ],
)
def test_a_product_with_an_implausible_vial_is_refused(clinic, as_role, typed, says):
    client = as_role("nurse")
    before = _counts()
    data = {
        "name": "Ketamine 50 mg/mL, 10 mL",
        "substance": "ketamine",
        "form": "vial",
        "concentration_mg_per_ml": "50",
        "volume_ml": "10",
    } | typed
    response = client.post(reverse("ledger:products"), data)
    assert response.status_code == 200
    assert says in html.unescape(response.content.decode())
    assert _counts() == before
    with pytest.raises(InputError, match="not plausible"):
        services.add_product(
            by=clinic.staff["nurse"],
            name="Odd vial",
            substance="ketamine",
            form="vial",
            concentration_mg_per_ml=Decimal(500),
            volume_ml=Decimal(10),
        )


@pytest.mark.parametrize("amount", ["²", "٣٥", "３５", "1e3", "9" * 5000])
def test_typed_amounts_take_ascii_digits_only(clinic, amount):
    product = ketamine_vial(clinic.staff["nurse"])
    with pytest.raises(ValueError, match="is not a number of mg"):
        parse(amount, product)
    assert parse("35", product) == 35_000


@pytest.mark.parametrize("raw", ["²", "9" * 5000, "-1", "١"])
def test_ids_in_query_strings_and_posts_never_give_a_500(clinic, as_role, raw):
    client = as_role("administrator")
    assert client.get(reverse("ledger:entries"), {"location": raw, "lot": raw}).status_code == 200
    nurse_client = as_role("nurse")
    before = _counts()
    response = nurse_client.post(reverse("ledger:transfer"), {"receive": raw})
    assert response.status_code == 404
    assert _counts() == before
