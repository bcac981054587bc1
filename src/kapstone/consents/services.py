"""The patient signs, or withdraws, their consent to the treatment plan: one new row each time,
written in one transaction with its audit entry, as the patient's own act."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from kapstone.accounts.models import StaffUser
from kapstone.audit.trail import record
from kapstone.companion.models import PatientAccount
from kapstone.consents import texts
from kapstone.consents.models import ConsentDocument, ConsentSignature, SignatureAction, text_hash
from kapstone.consents.selectors import document_in_force, standing_signature
from kapstone.errors import InputError
from kapstone.plans.models import TreatmentPlan

_MAX_AGENT = 400


def _words(name: str) -> str:
    return " ".join(name.casefold().split())


def _is_patients_name(typed: str, account: PatientAccount) -> bool:
    """The name the clinic knows them by, or their given and family names (spacing and capitals
    aside): a typed signature must be theirs."""
    patient = account.patient
    names = {patient.display_name, f"{patient.given_name} {patient.family_name}"}
    return _words(typed) in {_words(n) for n in names}


def publish_document(
    *,
    by: StaffUser | None,
    key: str,
    version: str,
    title: str,
    text: str,
    sources: list[str],
    at: dt.datetime,
    language: str = "en-gb",
) -> ConsentDocument:
    """A new version of the consent wording (clinic policy), superseding the one in force."""
    errors: dict[str, list[str]] = {}
    if not text.strip():
        errors["text"] = ["The consent text is empty."]
    if not version.strip():
        errors["version"] = ["Give the version a name (for example 2027-01)."]
    elif ConsentDocument.objects.filter(key=key, version=version, language=language).exists():
        errors["version"] = [f"Version {version} exists already: choose a new name."]
    if errors:
        raise InputError(errors)
    current = document_in_force(key=key, language=language)
    if current is not None and current.language != language:
        current = None
    with transaction.atomic():
        document = ConsentDocument.objects.create(
            key=key,
            version=version,
            language=language,
            title=title,
            text=text,
            content_hash=text_hash(text),
            sources=sources,
            verification="unverified",
            clinic_editable=True,
            supersedes=current,
            created_at=at,
        )
        record(
            actor=by,
            action="consent.document_published",
            obj=document,
            summary=f"Published consent text {document.ref} (sha256 {document.hash_prefix})",
        )
    return document


def ensure_first_document(*, at: dt.datetime) -> ConsentDocument:
    """The consent text in force, storing the first version if there is none (migration 0003
    stores it; a flushed test database or a fresh demo may not have it)."""
    found = document_in_force(key=texts.PLAN_CONSENT_KEY)
    if found is not None:
        return found
    return publish_document(
        by=None,
        key=texts.PLAN_CONSENT_KEY,
        version=texts.FIRST_VERSION,
        title=texts.TITLE,
        text=texts.TEXT,
        sources=list(texts.SOURCES),
        at=at,
    )


def sign_consent(
    *,
    account: PatientAccount,
    plan: TreatmentPlan,
    document: ConsentDocument,
    shown_hash: str,
    typed_name: str,
    read_and_understood: bool,
    at: dt.datetime,
    ip_address: str | None,
    user_agent: str,
) -> ConsentSignature:
    """The patient signs ``document`` for ``plan`` by typing their full name and ticking that
    they have read and understood it. ``shown_hash`` is the hash of the text the page showed: a
    newer version published meanwhile is refused, so nobody signs words they did not see."""
    patient = account.patient
    errors: dict[str, list[str]] = {}
    if plan.patient_id != patient.pk:
        raise InputError.single("", _("This is not your treatment plan."))
    if shown_hash != document.content_hash:
        errors.setdefault("", []).append(
            _("The consent text changed while you were reading it. Please read it again.")
        )
    name = typed_name.strip()
    if not name:
        errors.setdefault("typed_name", []).append(_("Type your full name to sign."))
    elif not _is_patients_name(name, account):
        errors.setdefault("typed_name", []).append(
            _("Type your full name as the clinic has it: %(name)s.")
            % {"name": patient.display_name}
        )
    if not read_and_understood:
        errors.setdefault("read_and_understood", []).append(
            _("Tick the box to say you have read and understood it.")
        )
    if not errors and standing_signature(patient=patient, plan=plan) is not None:
        errors[""] = [_("You have already signed this consent.")]
    if errors:
        raise InputError(errors)
    with transaction.atomic():
        signature = ConsentSignature.objects.create(
            patient=patient,
            plan=plan,
            document=document,
            action=SignatureAction.SIGNED,
            text_hash=document.content_hash,
            typed_name=name,
            read_and_understood=True,
            signed_at=at,
            ip_address=ip_address or None,
            user_agent=user_agent[:_MAX_AGENT],
            account=account,
        )
        record(
            actor=None,
            actor_label=account.audit_label,
            action="consent.signed",
            patient=patient,
            obj=signature,
            summary=(
                f"Signed consent {document.ref} (sha256 {document.hash_prefix}) electronically "
                f"for treatment plan version {plan.revision}"
            ),
        )
    return signature


def withdraw_consent(
    *,
    account: PatientAccount,
    plan: TreatmentPlan,
    typed_name: str,
    at: dt.datetime,
    ip_address: str | None,
    user_agent: str,
) -> ConsentSignature:
    """Withdraws the standing signature: a new row naming it (the signature itself stays)."""
    patient = account.patient
    standing = standing_signature(patient=patient, plan=plan)
    if standing is None:
        raise InputError.single("", _("There is no signed consent to withdraw."))
    name = typed_name.strip()
    if not _is_patients_name(name, account):
        raise InputError.single(
            "typed_name",
            _("Type your full name as the clinic has it: %(name)s.")
            % {"name": patient.display_name},
        )
    with transaction.atomic():
        withdrawal = ConsentSignature.objects.create(
            patient=patient,
            plan=plan,
            document=standing.document,
            action=SignatureAction.WITHDRAWN,
            text_hash=standing.text_hash,
            typed_name=name,
            read_and_understood=standing.read_and_understood,
            signed_at=at,
            ip_address=ip_address or None,
            user_agent=user_agent[:_MAX_AGENT],
            account=account,
            withdraws=standing,
        )
        record(
            actor=None,
            actor_label=account.audit_label,
            action="consent.withdrawn",
            patient=patient,
            obj=withdrawal,
            summary=(
                f"Withdrew electronic consent {standing.document.ref} for treatment plan "
                f"version {plan.revision}"
            ),
        )
    return withdrawal


def record_consent_read(*, account: PatientAccount, document: ConsentDocument) -> None:
    """The patient opened the consent text: their own read, in the trail."""
    record(
        actor=None,
        actor_label=account.audit_label,
        action="consent.viewed",
        patient=account.patient,
        obj=document,
        summary=f"Read consent {document.ref}",
    )
