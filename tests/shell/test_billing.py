"""Billing through its services on the real database: charges proposed as encounters are signed
(never blocking a signature), the biller's review, the account and its balance, claims and their
status, the superbill and CMS-1500 PDFs read back with pypdf, the 837P accepted by pyx12."""

from __future__ import annotations

import io

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone

from kapstone.audit.models import AuditEntry
from kapstone.billing import documents, selectors, services
from kapstone.billing.models import AccountEntry, ChargeLine, ChargeStatus
from kapstone.chairside.models import ChairsideRecord
from kapstone.errors import InputError
from kapstone.kernel.append_only import AppendOnlyError
from tests.shell.billing_support import (
    SERVICE_DAY,
    billing_setup,
    finalised_line,
    prepared_clinic,
    signed_retreat_day,
)
from tests.shell.billing_x12_support import pyx12_verdict


def pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.fixture
def biller(clinic):
    return clinic.staff["biller"]


@pytest.fixture
def day(clinic):
    """A signed retreat day of the on-team patient, billing set up first."""
    prepared_clinic(clinic)
    return signed_retreat_day(clinic)


def test_a_signed_retreat_day_proposes_its_lines(day, clinic):
    record, note = day
    dose_lines = ChargeLine.objects.filter(chairside_record=record).order_by("pk")
    assert [(line.code, line.units) for line in dose_lines] == [("96365", 1), ("J3490", 1)]
    therapy = ChargeLine.objects.get(integration_note=note)
    assert (therapy.code, therapy.units) == ("90837", 1)  # 60 minutes: the 53-minute band
    assert therapy.rendering == clinic.staff["therapist"]
    assert dose_lines[0].rendering == clinic.staff["prescriber"]
    assert dose_lines[0].diagnoses == ["F33.2", "F41.1"]
    assert dose_lines[0].diagnosis_pointers == [1, 2]
    assert dose_lines[0].fee_cents == 45000 and "40 infusion minutes" in dose_lines[0].rule
    assert dose_lines[0].service_date == timezone.localdate(record.session.starts_at)
    queue = selectors.charge_queue()
    assert {line.code for line in queue} == {"96365", "J3490", "90837"}
    # A long queue comes a page at a time, oldest service first, each line with its status.
    first, second = (
        selectors.charge_queue_page(None, per_page=2),
        selectors.charge_queue_page("2", per_page=2),
    )
    assert first.paginator.count == 3 and first.paginator.num_pages == 2
    assert [line.pk for line in [*first.object_list, *second.object_list]] == [
        line.pk for line in queue
    ]
    assert all(line.status == "proposed" for line in first.object_list)
    entry = AuditEntry.objects.filter(action="billing.charges_proposed").latest("seq")
    assert entry.patient_id == clinic.on_team.pk


def test_without_diagnoses_the_signature_stands_and_the_biller_codes_by_hand(clinic):
    billing_setup(clinic.on_team.home_site)
    record, _note = signed_retreat_day(clinic)
    assert ChairsideRecord.objects.get(pk=record.pk).signed_at is not None
    (line,) = ChargeLine.objects.filter(chairside_record=record)
    assert line.code == "" and "No diagnosis" in line.needs_coding
    with pytest.raises(InputError) as caught:
        services.finalise_charge(by=clinic.staff["biller"], line=line)
    assert "needs coding" in caught.value.errors["code"][0]


def test_a_missing_fee_makes_a_needs_coding_line_not_a_refused_signature(clinic):
    prepared = clinic.sites[1]  # the other site has the prices; the patient's has none
    billing_setup(prepared)
    services.record_diagnoses(by=clinic.staff["biller"], patient=clinic.on_team, codes=["F33.2"])
    record, _ = signed_retreat_day(clinic)
    (line,) = ChargeLine.objects.filter(chairside_record=record)
    assert "no price for 96365" in line.needs_coding


def test_the_biller_finalises_voids_recodes_and_reverses(day, clinic, biller):
    record, note = day
    infusion, drug = ChargeLine.objects.filter(chairside_record=record).order_by("pk")
    therapy = ChargeLine.objects.get(integration_note=note)
    with pytest.raises(InputError):
        services.finalise_charge(by=clinic.staff["nurse"], line=infusion)
    services.finalise_charge(by=biller, line=infusion)
    with pytest.raises(InputError, match="already decided"):
        services.finalise_charge(by=biller, line=infusion)
    with pytest.raises(InputError) as caught:
        services.void_charge(by=biller, line=drug, reason="")
    assert set(caught.value.errors) == {"reason"}
    services.void_charge(by=biller, line=drug, reason="Drug supplied by the patient's pharmacy")
    with pytest.raises(InputError) as caught:
        services.recode_charge(
            by=biller,
            line=therapy,
            code="S0013",  # replaced by J0013 on 2026-01-01: not in force on the service date
            units=1,
            modifiers=[],
            diagnoses=["F33.2"],
            pointers=[1],
            place_of_service="11",
            reason="wrong band",
        )
    assert "code" in caught.value.errors
    recoded = services.recode_charge(
        by=biller,
        line=therapy,
        code="90834",
        units=1,
        modifiers=[],
        diagnoses=["F33.2"],
        pointers=[1],
        place_of_service="11",
        reason="Face-to-face time was 45 minutes",
    )
    assert recoded.fee_cents == 13000 and recoded.integration_note_id == note.pk
    services.finalise_charge(by=biller, line=recoded)
    statuses = {line.pk: line.status for line in selectors.lines_of(clinic.on_team)}  # type: ignore[attr-defined]
    assert statuses[drug.pk] == statuses[therapy.pk] == ChargeStatus.VOIDED
    assert selectors.account_of(clinic.on_team).balance_cents == 45000 + 13000

    reversing = services.reverse_charge(by=biller, line=recoded, reason="Billed in error")
    assert reversing.reverses == recoded
    with pytest.raises(InputError, match="reversed already"):
        services.reverse_charge(by=biller, line=recoded, reason="again")
    account = selectors.account_of(clinic.on_team)
    assert account.balance_cents == 45000 and account.charged_cents == 45000
    assert [row.signed_cents for row in account.rows] == [45000, 13000, -13000]


def test_payments_adjustments_refunds_and_the_balance(clinic, biller):
    patient = clinic.on_team
    billing_setup(patient.home_site)
    finalised_line(patient)  # 90837: $180.00
    paid = services.post_entry(
        by=biller,
        patient=patient,
        kind="payment",
        cents=10000,
        effective_on=SERVICE_DAY,
        method="card",
    )
    with pytest.raises(InputError) as caught:
        services.post_entry(
            by=biller, patient=patient, kind="refund", cents=20000, effective_on=SERVICE_DAY
        )
    assert "more than was paid" in caught.value.errors["amount"][0]
    with pytest.raises(InputError) as caught:
        services.post_entry(
            by=biller, patient=patient, kind="adjustment", cents=100, effective_on=SERVICE_DAY
        )
    assert set(caught.value.errors) == {"memo"}
    services.post_entry(
        by=clinic.staff["intake_coordinator"],
        patient=patient,
        kind="adjustment",
        cents=3000,
        effective_on=SERVICE_DAY,
        memo="Sliding scale",
    )
    with pytest.raises(InputError):
        services.post_entry(
            by=clinic.staff["nurse"],
            patient=patient,
            kind="payment",
            cents=1,
            effective_on=SERVICE_DAY,
        )
    account = selectors.account_of(patient)
    assert (account.charged_cents, account.paid_cents, account.adjusted_cents) == (
        18000,
        10000,
        3000,
    )
    assert account.balance_cents == 5000
    services.reverse_entry(by=biller, entry=paid, reason="Card declined")
    with pytest.raises(InputError, match="reversed already"):
        services.reverse_entry(by=biller, entry=paid, reason="again")
    account = selectors.account_of(patient)
    assert account.balance_cents == 15000 and account.rows[-1].balance_cents == 15000
    from kapstone.billing.ledger import core_ledger, totals
    from kapstone.clinical.billing.account import ledger_problems

    stored = list(AccountEntry.objects.filter(patient=patient))
    assert totals(stored).identity_holds
    assert ledger_problems(core_ledger(stored)) == []  # the core replays what was stored


def test_account_rows_are_append_only(clinic):
    billing_setup(clinic.on_team.home_site)
    line = finalised_line(clinic.on_team)
    entry = AccountEntry.objects.get(charge=line)
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        line.delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AccountEntry.objects.filter(pk=entry.pk).update(cents=1)


def _claim(clinic, lines, **kw):  # type: ignore[no-untyped-def]
    payer = billing_setup(clinic.on_team.home_site)
    details = {
        "member_id": "W123456789",
        "group_number": "GRP1",
        "address_line": "12 Elm Street",
        "city": "Albany",
        "state": "NY",
        "postal_code": "12208",
    } | kw
    return services.create_claim(
        by=clinic.staff["biller"], patient=clinic.on_team, payer=payer, lines=lines, **details
    )


def test_a_claim_is_checked_by_the_core_and_its_status_kept_by_hand(day, clinic, biller):
    record, _note = day
    lines = list(ChargeLine.objects.filter(chairside_record=record).order_by("pk"))
    with pytest.raises(InputError) as caught:
        _claim(clinic, lines)
    assert "not a finalised charge" in " ".join(caught.value.errors["lines"])
    for line in lines:
        services.finalise_charge(by=biller, line=line)
    with pytest.raises(InputError) as caught:
        _claim(clinic, lines, member_id="", state="New York")
    assert {"member_id", "state"} <= set(caught.value.errors)
    claim = _claim(clinic, lines)
    assert claim.control_number.startswith("KAP") and claim.lines.count() == 2
    with pytest.raises(InputError, match="another claim"):
        _claim(clinic, lines[:1])

    with pytest.raises(InputError) as caught:
        services.record_claim_status(by=biller, claim=claim, status="paid")
    assert "not sent yet" in caught.value.errors["status"][0]
    services.record_claim_status(by=biller, claim=claim, status="submitted")
    with pytest.raises(InputError) as caught:
        services.record_claim_status(by=biller, claim=claim, status="denied")
    assert set(caught.value.errors) == {"reason"}
    services.record_claim_status(
        by=biller, claim=claim, status="denied", reason="CO-197 no prior authorisation"
    )
    services.record_claim_status(by=biller, claim=claim, status="resubmitted", reference="PA 4411")
    row = selectors.claim_of(clinic.on_team, claim.pk)
    assert row.status == "resubmitted" and row.total_cents == 50000
    assert [e.status for e in row.events] == ["submitted", "denied", "resubmitted"]


def test_the_documents_say_what_was_billed(day, clinic, biller):
    record, note = day
    lines = list(ChargeLine.objects.filter(chairside_record=record).order_by("pk"))
    lines.append(ChargeLine.objects.get(integration_note=note))
    for line in lines:
        services.finalise_charge(by=biller, line=line)
    services.post_entry(
        by=biller,
        patient=clinic.on_team,
        kind="payment",
        cents=20000,
        effective_on=timezone.localdate(),
    )
    claim = _claim(clinic, lines[:2])  # the dose's lines: one rendering clinician per claim

    from kapstone.billing.pdf import cms1500_pdf, superbill_pdf

    superbill = pdf_text(superbill_pdf(documents.superbill(clinic.on_team)))
    for expected in (
        "Superbill",
        "Riverside Ketamine Clinic",
        "1234567893",  # the practice's NPI
        "123456789",  # tax ID
        "Ada Lovelace",
        "F33.2",
        "F41.1",
        "96365",
        "J3490",
        "90837",
        "$450.00",
        "$680.00",  # total: 450 + 50 + 180
        "$200.00",  # paid
        "$480.00",  # balance
    ):
        assert expected in superbill, expected

    row = selectors.claim_of(clinic.on_team, claim.pk)
    form = pdf_text(cms1500_pdf(documents.cms1500(row)))
    for expected in (
        "CMS-1500 (02/12)",
        "Insured's ID number",
        "W123456789",
        "Lovelace, Ada",
        "A. F33.2",
        "96365",
        "Federal tax ID number",
        "Total charge",
        "$500.00",
        "Billing provider NPI",
        claim.control_number,
    ):
        assert expected in form, expected

    text = documents.x12_of(row, now=timezone.now())
    accepted, ack = pyx12_verdict(text)
    assert accepted, ack
    assert f"CLM*{claim.control_number}*500.00" in text
    assert "HI*ABK:F332*ABF:F411~" in text


def test_pages_for_the_biller_and_none_of_the_chart(day, clinic, as_role):
    client = as_role("biller")
    patient = clinic.on_team
    assert client.get(reverse("billing:queue")).status_code == 200
    page = client.get(reverse("billing:account", kwargs={"patient_id": patient.pk}))
    assert page.status_code == 200 and b"Statement" in page.content
    for name in ("patients:chart",):
        assert client.get(reverse(name, kwargs={"patient_id": patient.pk})).status_code == 403
    response = client.post(
        reverse("billing:post_entry", kwargs={"patient_id": patient.pk}),
        {
            "kind": "payment",
            "amount": "12.50",
            "effective_on": timezone.localdate().isoformat(),
            "payer": "",
            "method": "cash",
        },
    )
    assert response.status_code == 302
    assert selectors.account_of(patient).paid_cents == 1250
    superbill = client.get(reverse("billing:superbill", kwargs={"patient_id": patient.pk}))
    assert superbill["Content-Type"] == "application/pdf"
    assert AuditEntry.objects.filter(action="billing.superbill_exported").exists()


def test_a_new_claim_starts_from_the_patients_medical_coverage(day, clinic, as_role):
    from kapstone.billing.models import Payer
    from kapstone.coverage.services import add_coverage

    record, _ = day
    for line in ChargeLine.objects.filter(chairside_record=record):
        services.finalise_charge(by=clinic.staff["biller"], line=line)
    payer = Payer.objects.get(name="Acme Health")
    add_coverage(
        by=clinic.staff["biller"],
        patient=clinic.on_team,
        payer=payer,
        member_id="ZX9001",
        group_number="G-77",
        benefit="medical",
    )
    page = as_role("biller").get(
        reverse("billing:new_claim", kwargs={"patient_id": clinic.on_team.pk})
    )
    form = page.context["form"]
    assert form.initial["member_id"] == "ZX9001" and form.initial["group_number"] == "G-77"
    assert form.initial["payer"] == str(payer.pk)
