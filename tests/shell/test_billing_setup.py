"""Billing setup through its pages (kapstone.billing.views): the biller adds a payer, sets a site's
billing numbers and a clinician's NPI, and adds a dated fee-schedule version that the next signed
session's proposal prices with; a bad NPI or a price that is not dollars and cents is refused on the
form and nothing is saved; a nurse may not open any of it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from kapstone.audit.models import AuditEntry
from kapstone.billing import selectors
from kapstone.billing.forms import cents_of
from kapstone.billing.models import (
    BillingProvider,
    ChargeLine,
    ClinicianNumber,
    FeeScheduleVersion,
    Payer,
)
from tests.conftest import build_clinic, kept_for_the_module, verified_client
from tests.shell.billing_support import PRICES, prepared_clinic, signed_retreat_day

SETUP_PAGES = ("setup", "payer_new", "provider", "clinician_npi", "fee_version")


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker):
    """The test clinic with billing set up for its first site (self-pay prices from 1 Jan 2026),
    built once for the module (tests.conftest.kept_for_the_module)."""
    with kept_for_the_module(django_db_blocker):
        clinic = build_clinic()
        prepared_clinic(clinic)
        yield clinic


@pytest.fixture
def clinic(built, db):
    return built


@pytest.fixture
def biller(clinic, client):
    return verified_client(client, clinic.staff["biller"])


def errors_of(response) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    form = response.context["form"]
    return {name: [str(e) for e in errs] for name, errs in form.errors.items()}


def provider_post(site, **changes) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        "site": str(site.pk),
        "name": "Harbour Ketamine Clinic PLLC",
        "npi": "1245319599",
        "tax_id": "98-7654321",
        "taxonomy_code": "",
        "address_line": "2 Quay Street",
        "city": "Albany",
        "state": "ny",
        "postal_code": "12207",
        "phone": "",
    } | changes


def test_the_setup_page_lists_payers_sites_clinicians_and_fee_versions(biller, clinic):
    response = biller.get(reverse("billing:setup"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Acme Health" in page and "60054" in page
    assert "Riverside Ketamine Clinic" in page and "1234567893" in page
    assert "Not set: claims cannot be made" in page  # the second site has no billing details
    assert clinic.staff["therapist"].display_name in page and "1992735385" in page
    assert "In force from 1 Jan 2026" in page and "$450.00" in page
    queue = biller.get(reverse("billing:queue")).content.decode()
    assert reverse("billing:setup") in queue


def test_the_biller_adds_a_payer_and_edits_it(biller):
    data = {
        "name": "Blue Ridge Mutual",
        "payer_id": "BRM01",
        "address_line": "PO Box 9",
        "city": "Richmond",
        "state": "va",
        "postal_code": "23219",
    }
    response = biller.post(reverse("billing:payer_new"), data)
    assert response.status_code == 302 and response["Location"] == reverse("billing:setup")
    payer = Payer.objects.get(name="Blue Ridge Mutual")
    assert (payer.payer_id, payer.state) == ("BRM01", "VA")
    edit = reverse("billing:payer_edit", kwargs={"payer_id": payer.pk})
    assert biller.get(edit).context["form"].initial["payer_id"] == "BRM01"
    assert biller.post(edit, data | {"payer_id": "BRM02"}).status_code == 302
    payer.refresh_from_db()
    assert payer.payer_id == "BRM02" and Payer.objects.filter(name__startswith="Blue").count() == 1
    assert "Blue Ridge Mutual" in biller.get(reverse("billing:setup")).content.decode()
    refused = biller.post(reverse("billing:payer_new"), data | {"name": "Acme Health"})
    assert refused.status_code == 200
    assert errors_of(refused)["name"] == ["A payer of this name exists."]


def test_a_sites_npi_and_tax_id_are_set_and_a_bad_check_digit_is_refused(biller, clinic):
    harbour = clinic.sites[1]
    url = reverse("billing:provider")
    refused = biller.post(url, provider_post(harbour, npi="1245319598"))
    assert refused.status_code == 200
    assert errors_of(refused)["npi"] == [
        "Give the practice's 10-digit NPI (its check digit does not match)."
    ]
    assert "check digit does not match" in refused.content.decode()
    assert not BillingProvider.objects.filter(site=harbour).exists()
    assert biller.post(url, provider_post(harbour)).status_code == 302
    saved = BillingProvider.objects.get(site=harbour)
    assert (saved.npi, saved.tax_id, saved.state) == ("1245319599", "987654321", "NY")
    assert AuditEntry.objects.filter(action="billing.provider_saved").count() == 2  # + fixture's
    again = biller.get(f"{url}?site={harbour.pk}").context["form"].initial
    assert again["npi"] == "1245319599"


def test_a_clinicians_npi_is_set(biller, clinic):
    nurse = clinic.staff["nurse"]
    url = reverse("billing:clinician_npi")
    refused = biller.post(url, {"clinician": str(nurse.pk), "npi": "1003000127"})
    assert "check digit wrong" in errors_of(refused)["npi"][0]
    assert not ClinicianNumber.objects.filter(staff=nurse).exists()
    assert biller.post(url, {"clinician": str(nurse.pk), "npi": "1003000126"}).status_code == 302
    assert ClinicianNumber.objects.get(staff=nurse).npi == "1003000126"


@pytest.mark.parametrize(
    ("text", "cents"), [("450", 45000), ("$1,200.50", 120050), ("12.5", 1250), ("0.07", 7)]
)
def test_dollars_and_cents_are_read_as_integer_cents(text, cents):
    assert cents_of(text) == cents


def test_a_new_fee_version_is_dated_keeps_the_old_one_and_prices_the_next_proposal(biller, clinic):
    site = clinic.on_team.home_site
    url = reverse("billing:fee_version")
    form = biller.get(f"{url}?site={site.pk}").context["form"]
    assert form.initial["price_96365"] == "450.00"  # the newest version's prices to start from
    codes = {f.name.removeprefix("price_") for f in form.price_fields()}
    assert {"96365", "J3490", "90837"} <= codes and "S0013" not in codes  # J0013 replaced it
    new_from = timezone.localdate() - dt.timedelta(days=7)
    post = {"site": str(site.pk), "payer": "", "effective_from": new_from.isoformat()}
    post |= {f"price_{code}": f"{cents / 100:.2f}" for code, cents in PRICES.items()}
    refused = biller.post(url, post | {"price_96365": "12.345"})
    assert errors_of(refused)["price_96365"] == ["12.345 is not an amount in dollars and cents."]
    assert FeeScheduleVersion.objects.count() == 1
    assert biller.post(url, post | {"price_96365": "475.50"}).status_code == 302
    old, new = FeeScheduleVersion.objects.order_by("effective_from")
    assert old.prices.get(code="96365").cents == 45000  # the older version is untouched
    assert new.prices.get(code="96365").cents == 47550 and new.created_by == clinic.staff["biller"]
    same_day = biller.post(url, post)
    assert "A version from this day exists" in errors_of(same_day)["effective_from"][0]
    (row,) = selectors.fee_schedules()
    assert [v.version.effective_from for v in row.versions] == [new_from, dt.date(2026, 1, 1)]
    record, _note = signed_retreat_day(clinic)
    infusion = ChargeLine.objects.get(chairside_record=record, code="96365")
    assert infusion.fee_cents == 47550


def test_a_nurse_may_not_open_billing_setup(clinic, client):
    verified_client(client, clinic.staff["nurse"])
    for name in SETUP_PAGES:
        assert client.get(reverse(f"billing:{name}")).status_code == 403, name
    payer = Payer.objects.get(name="Acme Health")
    edit = reverse("billing:payer_edit", kwargs={"payer_id": payer.pk})
    assert client.post(edit, {"name": "Hijacked", "payer_id": "X1"}).status_code == 403
    assert Payer.objects.get(pk=payer.pk).name == "Acme Health"
