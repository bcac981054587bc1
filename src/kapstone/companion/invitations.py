"""The staff side: inviting a patient to the companion from their chart, resending the invitation,
pausing and restoring the account. Each in one transaction with its audit row."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from kapstone.accounts.models import StaffUser
from kapstone.audit.trail import record
from kapstone.companion import links
from kapstone.companion.models import LinkPurpose, PatientAccount
from kapstone.errors import InputError
from kapstone.notify.models import Kind
from kapstone.notify.services import notify
from kapstone.patients.models import Patient


def _clean_email(email: str) -> str:
    email = email.strip()
    if not email:
        raise InputError.single("email", "Enter the patient's e-mail address.")
    try:
        validate_email(email)
    except ValidationError:
        raise InputError.single(
            "email", f"“{email}” is not an e-mail address (it needs a name, @ and a domain)."
        ) from None
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def _email_taken(email: str, *, patient: Patient) -> bool:
    return PatientAccount.objects.filter(email__iexact=email).exclude(patient=patient).exists()


def invite_patient(
    *, by: StaffUser, patient: Patient, email: str, now: dt.datetime
) -> PatientAccount:
    """Creates the patient's companion account (or, not yet activated, updates its address) and
    e-mails a one-time invitation link, valid ``COMPANION_INVITATION_DAYS``."""
    email = _clean_email(email)
    if _email_taken(email, patient=patient):
        raise InputError.single(
            "email", "Another patient's companion account uses this address: each needs their own."
        )
    existing = PatientAccount.objects.filter(patient=patient).first()
    if existing is not None and existing.activated_at is not None:
        raise InputError.single(
            "email",
            "This patient already uses the companion. They can change their sign-in from their "
            "settings; to stop it, deactivate the account.",
        )
    try:
        with transaction.atomic():
            if existing is None:
                account = PatientAccount.objects.create(
                    patient=patient, email=email, invited_at=now, invited_by=by
                )
            else:
                account = existing
                account.email, account.invited_at, account.invited_by = email, now, by
                account.is_active = True
                account.save(update_fields=["email", "invited_at", "invited_by", "is_active"])
            url = links.issue(account=account, purpose=LinkPurpose.INVITATION, now=now)
            notify(account=account, kind=Kind.INVITATION, url=url, now=now)
            record(
                actor=by,
                action="companion.invited" if existing is None else "companion.reinvited",
                patient=patient,
                obj=account,
                summary="Invitation to the companion e-mailed",
            )
    except IntegrityError:
        # Two invitations at once with the same address: the other one won.
        raise InputError.single(
            "email", "Another patient's companion account uses this address: each needs their own."
        ) from None
    return account


def resend_invitation(*, by: StaffUser, patient: Patient, now: dt.datetime) -> PatientAccount:
    """A fresh invitation link to the address on file (the old link stops working)."""
    account = PatientAccount.objects.filter(patient=patient).first()
    if account is None:
        raise InputError.single("", "This patient has not been invited yet.")
    if account.activated_at is not None:
        raise InputError.single(
            "", "This patient already signed in; they can ask for a sign-in link themselves."
        )
    if not account.is_active:
        raise InputError.single("", "The account is deactivated: reactivate it first.")
    return invite_patient(by=by, patient=patient, email=account.email, now=now)


def set_account_active(
    *, by: StaffUser, patient: Patient, active: bool, now: dt.datetime
) -> PatientAccount:
    """Deactivating ends the patient's access at once (their session is refused on its next page);
    reactivating restores it with the same sign-in."""
    account = PatientAccount.objects.filter(patient=patient).first()
    if account is None:
        raise InputError.single("", "This patient has no companion account.")
    if account.is_active == active:
        return account
    with transaction.atomic():
        account.is_active = active
        account.save(update_fields=["is_active"])
        if not active:
            account.links.filter(used_at__isnull=True).update(expires_at=now)
        record(
            actor=by,
            action="companion.reactivated" if active else "companion.deactivated",
            patient=patient,
            obj=account,
            before={"is_active": not active},
            after={"is_active": active},
        )
    return account
