"""The patient reads the consent text of their treatment plan and signs it electronically: the
exact version and its hash are kept, a withdrawal is a new row, and staff see the signature on the
plan page and its PDF."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from kapstone.audit.models import AuditEntry
from kapstone.consents import selectors, services, texts
from kapstone.consents.models import AppendOnlyError, ConsentDocument, ConsentSignature
from kapstone.errors import InputError
from tests.companion.support import make_account, patient_client
from tests.conftest import verified_client
from tests.shell.chairside_support import signed_plan_for

pytestmark = pytest.mark.django_db

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "clinical-reference.md"


@pytest.fixture
def account(clinic):
    return make_account(patient=clinic.on_team, by=clinic.staff["prescriber"])


@pytest.fixture
def plan(clinic):
    return signed_plan_for(clinic)


@pytest.fixture
def document():
    return services.ensure_first_document(at=timezone.now())


def sign(account, plan, document, **overrides):  # type: ignore[no-untyped-def]
    kwargs = {
        "account": account,
        "plan": plan,
        "document": document,
        "shown_hash": document.content_hash,
        "typed_name": "Ada Lovelace",
        "read_and_understood": True,
        "at": timezone.now(),
        "ip_address": "198.51.100.7",
        "user_agent": "Mozilla/5.0 (iPhone)",
    }
    return services.sign_consent(**(kwargs | overrides))


def test_the_migration_stores_the_first_text_as_the_app_has_it():
    stored = ConsentDocument.objects.get(key=texts.PLAN_CONSENT_KEY, version=texts.FIRST_VERSION)
    assert stored.text == texts.TEXT
    assert stored.content_hash == hashlib.sha256(texts.TEXT.encode()).hexdigest()
    assert stored.clinic_editable and stored.verification == "unverified"
    # It cites keys that the clinical reference has (section 0's table).
    reference = REFERENCE.read_text(encoding="utf-8")
    assert stored.sources == texts.SOURCES
    for key in stored.sources:
        assert re.search(rf"^\| {re.escape(key)} \|", reference, re.MULTILINE), key


def test_the_text_explains_every_topic_the_prescriber_ticks():
    # One paragraph per topic of kapstone.plans.sections.CONSENT_TOPICS, in plain words.
    for words in (
        "off-label",
        "dissociation",
        "blood pressure",
        "cystitis",
        "not everyone",
        "Do not drive",
        "Integration sessions",
        "stop treatment at any time",
        "REMS",
    ):
        assert words in texts.TEXT, words


def test_the_patient_signs_and_the_signature_keeps_what_they_saw(account, plan, document):
    signature = sign(account, plan, document)
    stored = ConsentSignature.objects.get()
    assert (stored.patient, stored.plan, stored.document, stored.account) == (
        account.patient,
        plan,
        document,
        account,
    )
    assert stored.text_hash == document.content_hash
    assert (stored.typed_name, stored.ip_address) == ("Ada Lovelace", "198.51.100.7")
    assert stored.user_agent == "Mozilla/5.0 (iPhone)" and stored.read_and_understood
    assert selectors.standing_signature(patient=account.patient, plan=plan) == signature
    audit = AuditEntry.objects.get(action="consent.signed")
    assert audit.actor_id is None and audit.actor_label == f"patient-account:{account.pk}"
    assert audit.patient_id == account.patient.pk and document.hash_prefix in audit.summary


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"typed_name": ""}, "typed_name"),
        ({"typed_name": "Grace Hopper"}, "typed_name"),
        ({"read_and_understood": False}, "read_and_understood"),
        ({"shown_hash": "0" * 64}, ""),
    ],
)
def test_a_signature_that_is_not_theirs_or_not_informed_is_refused(
    account, plan, document, overrides, field
):
    with pytest.raises(InputError) as caught:
        sign(account, plan, document, **overrides)
    assert field in caught.value.errors
    assert not ConsentSignature.objects.exists()
    assert not AuditEntry.objects.filter(action="consent.signed").exists()


def test_the_name_may_differ_in_capitals_and_spaces_only(account, plan, document):
    assert sign(account, plan, document, typed_name="  ada   LOVELACE ").typed_name == (
        "ada   LOVELACE"
    )
    with pytest.raises(InputError, match="already signed"):
        sign(account, plan, document)


def test_a_withdrawal_is_a_new_row_and_the_signature_stays(account, plan, document):
    signed = sign(account, plan, document)
    withdrawal = services.withdraw_consent(
        account=account,
        plan=plan,
        typed_name="Ada Lovelace",
        at=timezone.now(),
        ip_address="198.51.100.7",
        user_agent="phone",
    )
    assert withdrawal.pk != signed.pk and withdrawal.withdraws == signed
    assert ConsentSignature.objects.get(pk=signed.pk).action == "signed"  # unchanged
    assert selectors.standing_signature(patient=account.patient, plan=plan) is None
    status = selectors.consent_status(plan)
    assert status.withdrawn == withdrawal and len(status.history) == 2
    assert AuditEntry.objects.filter(action="consent.withdrawn").count() == 1
    # They may sign again: a third row.
    again = sign(account, plan, document)
    assert selectors.standing_signature(patient=account.patient, plan=plan) == again
    with pytest.raises(InputError, match="full name"):  # only the patient withdraws, by name
        services.withdraw_consent(
            account=account,
            plan=plan,
            typed_name="Someone Else",
            at=timezone.now(),
            ip_address=None,
            user_agent="",
        )


def test_signatures_and_texts_refuse_change_in_python_and_in_the_database(account, plan, document):
    signature = sign(account, plan, document)
    signature.typed_name = "Someone Else"
    with pytest.raises(AppendOnlyError):
        signature.save()
    with pytest.raises(AppendOnlyError):
        signature.delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ConsentSignature.objects.filter(pk=signature.pk).update(typed_name="Someone Else")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ConsentDocument.objects.filter(pk=document.pk).update(text="Other words")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ConsentSignature.objects.filter(pk=signature.pk).delete()
    assert ConsentSignature.objects.get(pk=signature.pk).typed_name == "Ada Lovelace"


def test_a_new_version_supersedes_and_a_page_showing_the_old_one_cannot_be_signed(
    account, plan, document
):
    newer = services.publish_document(
        by=None,
        key=texts.PLAN_CONSENT_KEY,
        version="2027-01",
        title=texts.TITLE,
        text=texts.TEXT + "\nA new paragraph.",
        sources=texts.SOURCES,
        at=timezone.now(),
    )
    assert newer.supersedes == document
    assert selectors.document_in_force() == newer
    with pytest.raises(InputError, match="changed while you were reading"):
        sign(account, plan, newer, shown_hash=document.content_hash)


# --- the pages ----------------------------------------------------------------------------------


def test_the_consent_page_shows_the_text_and_signs(client, account, plan, document):
    patient_client(client, account)
    page = client.get(reverse("companion:consent"))
    body = page.content.decode()
    assert page.status_code == 200
    assert "What ketamine is and why it is offered" in body and document.version in body
    assert AuditEntry.objects.filter(action="consent.viewed", actor_label=account.audit_label)

    # A wrong name is refused with the reason, and what was typed stays in the box.
    refused = client.post(
        reverse("companion:consent"),
        {
            "shown_hash": document.content_hash,
            "typed_name": "Ada Lovelac",
            "read_and_understood": "on",
        },
    )
    assert refused.status_code == 200
    assert "Type your full name as the clinic has it" in refused.content.decode()
    assert 'value="Ada Lovelac"' in refused.content.decode()
    assert not ConsentSignature.objects.exists()

    done = client.post(
        reverse("companion:consent"),
        {
            "shown_hash": document.content_hash,
            "typed_name": "Ada Lovelace",
            "read_and_understood": "on",
        },
        REMOTE_ADDR="203.0.113.9",
        HTTP_USER_AGENT="Test phone",
    )
    assert done.status_code == 302
    stored = ConsentSignature.objects.get()
    assert (stored.ip_address, stored.user_agent) == ("203.0.113.9", "Test phone")
    assert (
        "You have signed this consent" in client.get(reverse("companion:consent")).content.decode()
    )


def test_without_a_plan_the_page_says_there_is_nothing_to_sign_yet(client, account, document):
    page = patient_client(client, account).get(reverse("companion:consent"))
    assert "Nothing to sign yet" in page.content.decode()


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def test_staff_see_the_e_signature_on_the_plan_page_and_in_its_pdf(
    client, clinic, account, plan, document
):
    signature = sign(account, plan, document)
    staff = verified_client(client, clinic.staff["prescriber"])
    page = staff.get(reverse("plans:detail", args=[plan.patient_id, plan.pk]))
    assert "Signed electronically by the patient" in page.content.decode()
    assert signature.hash_prefix in page.content.decode()

    response = staff.get(reverse("plans:pdf", args=[plan.patient_id, plan.pk]))
    full = pdf_text(response.content)
    # A long reference wraps after its hyphen ("treatment-" / "plan@2026-12"): join it back.
    text = full[full.index("Electronic consent") :][:300].replace("- ", "-")
    assert 'Signed electronically by the patient as "Ada Lovelace"' in text
    assert f"consent text {document.ref}" in text
    assert f"SHA-256 {signature.hash_prefix}" in text
    when = timezone.localtime(signature.signed_at).strftime("%-d %b %Y %H:%M")
    assert when in text


def test_the_pdf_says_when_the_patient_has_not_signed(client, clinic, plan):
    staff = verified_client(client, clinic.staff["prescriber"])
    response = staff.get(reverse("plans:pdf", args=[plan.patient_id, plan.pk]))
    assert "Not signed electronically by the patient" in pdf_text(response.content)
