"""A patient's sign-in: a one-time link e-mailed to them, or their password; then, if they enrolled
one, their second factor (:mod:`kapstone.companion.factors`). Every outcome is in the audit trail,
named by the account's label (never the e-mail address or the name)."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kapstone.audit.trail import record
from kapstone.companion import links, lockout
from kapstone.companion.models import Language, LinkPurpose, PatientAccount
from kapstone.errors import InputError
from kapstone.notify.models import Kind
from kapstone.notify.services import notify


class Outcome(enum.Enum):
    SIGNED_IN = "signed_in"
    REFUSED = "refused"
    LOCKED = "locked"


@dataclass(frozen=True)
class Attempt:
    outcome: Outcome
    account: PatientAccount | None = None
    locked_until: dt.datetime | None = None


def _account_by_email(email: str) -> PatientAccount | None:
    email = email.strip()
    if not email:
        return None
    return (
        PatientAccount.objects.select_related("patient")
        .filter(email__iexact=email, is_active=True)
        .first()
    )


def send_sign_in_link(*, email: str, now: dt.datetime) -> None:
    """E-mails a one-time link if the address belongs to an active account; otherwise nothing.
    The caller says the same either way, so the page tells no one which addresses we know."""
    account = _account_by_email(email)
    if account is None:
        return
    with transaction.atomic():
        url = links.issue(account=account, purpose=LinkPurpose.SIGN_IN, now=now)
        notify(account=account, kind=Kind.SIGN_IN_LINK, url=url, now=now)
        record(
            actor=None,
            actor_label=account.audit_label,
            action="companion.link_sent",
            patient=account.patient,
            obj=account,
            summary="One-time sign-in link e-mailed",
        )


@dataclass(frozen=True)
class Redeemed:
    account: PatientAccount
    first_use: bool  # the invitation's link, opened for the first time: the account starts now


def redeem_link(*, token: str, now: dt.datetime) -> Redeemed | None:
    """Uses up the link (it never works again) and signs its account in; None if the link is
    unknown, used, expired, or its account deactivated."""
    with transaction.atomic():
        link = links.usable(token, now=now)
        if link is None:
            return None
        claimed = type(link).objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=now)
        if not claimed:  # opened twice at once: the other request has it
            return None
        account = link.account
        first_use = account.activated_at is None
        if first_use:
            account.activated_at = now
        account.last_sign_in_at = now
        account.save(update_fields=["activated_at", "last_sign_in_at"])
        record(
            actor=None,
            actor_label=account.audit_label,
            action="companion.signed_in",
            patient=account.patient,
            obj=account,
            summary=(
                "Invitation link opened: account activated"
                if first_use
                else "Signed in with a one-time link"
            ),
        )
    return Redeemed(account=account, first_use=first_use)


def record_failure(account: PatientAccount, *, how: str, locked: dt.datetime | None) -> None:
    summary = f"Failed sign-in ({how})"
    if locked is not None:
        summary += f": account locked until {locked:%Y-%m-%d %H:%M} UTC"
    record(
        actor=None,
        actor_label=account.audit_label,
        action="companion.sign_in_failed",
        patient=account.patient,
        obj=account,
        summary=summary,
    )


def sign_in_with_password(*, email: str, password: str, now: dt.datetime) -> Attempt:
    """Checks the address and password; counts failures toward the lock."""
    account = _account_by_email(email)
    if account is None or not account.password:
        make_password(password)  # the same work as a real check: the timing tells nothing
        if account is None:
            return Attempt(Outcome.REFUSED)
    with transaction.atomic():
        until = lockout.locked_until(account, now=now)
        if until is not None:
            record_failure(account, how="password, while locked", locked=None)
            return Attempt(Outcome.LOCKED, account, until)
        if not account.password or not check_password(password, account.password):
            locked = lockout.count_failure(account, now=now)
            record_failure(account, how="password", locked=locked)
            if locked is not None:
                return Attempt(Outcome.LOCKED, account, locked)
            return Attempt(Outcome.REFUSED, account)
        lockout.clear(account)
        account.last_sign_in_at = now
        account.save(update_fields=["last_sign_in_at"])
        record(
            actor=None,
            actor_label=account.audit_label,
            action="companion.signed_in",
            patient=account.patient,
            obj=account,
            summary="Signed in with a password",
        )
    return Attempt(Outcome.SIGNED_IN, account)


def set_password(*, account: PatientAccount, password: str, confirm: str) -> None:
    """Sets or changes the patient's password (Django's validators: length, common, numeric)."""
    if not password:
        raise InputError.single("password", _("Choose a password."))
    if password != confirm:
        raise InputError.single("confirm", _("The two passwords are not the same. Type it again."))
    try:
        validate_password(password)
    except ValidationError as exc:
        raise InputError({"password": list(exc.messages)}) from None
    with transaction.atomic():
        had_one = bool(account.password)
        account.password = make_password(password)
        account.save(update_fields=["password"])
        record(
            actor=None,
            actor_label=account.audit_label,
            action="companion.password_changed" if had_one else "companion.password_set",
            patient=account.patient,
            obj=account,
        )


def remove_password(*, account: PatientAccount) -> None:
    """Back to signing in by e-mailed link only."""
    if not account.password:
        return
    with transaction.atomic():
        account.password = ""
        account.save(update_fields=["password"])
        record(
            actor=None,
            actor_label=account.audit_label,
            action="companion.password_removed",
            patient=account.patient,
            obj=account,
        )


def set_language(*, account: PatientAccount, language: str) -> None:
    if language not in Language.values:
        raise InputError.single("language", _("Choose English or Español."))
    if account.language == language:
        return
    with transaction.atomic():
        before = account.language
        account.language = language
        account.save(update_fields=["language"])
        record(
            actor=None,
            actor_label=account.audit_label,
            action="companion.language_changed",
            patient=account.patient,
            obj=account,
            before={"language": before},
            after={"language": language},
        )


def record_sign_out(*, account: PatientAccount) -> None:
    with transaction.atomic():
        record(
            actor=None,
            actor_label=account.audit_label,
            action="companion.signed_out",
            patient=account.patient,
            obj=account,
        )
