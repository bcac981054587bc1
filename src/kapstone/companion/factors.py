"""The optional second factor: an authenticator app (TOTP) or a passkey. Once one is confirmed,
every sign-in asks for it (:func:`kapstone.companion.access.needs_second_factor`).

TOTP codes are checked with django_otp's RFC 6238 implementation, standalone (the patient is not a
Django user); a failed code counts toward the same lock as a failed password."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import transaction
from django_otp.oath import TOTP

from kapstone.audit.trail import record
from kapstone.companion import lockout
from kapstone.companion.models import CompanionPasskey, CompanionTOTPDevice, PatientAccount
from kapstone.companion.signin_services import Attempt, Outcome, record_failure

TOLERANCE = 1  # one 30-second step either side: a phone clock a little out


def _audit(account: PatientAccount, action: str, summary: str) -> None:
    record(
        actor=None,
        actor_label=account.audit_label,
        action=action,
        patient=account.patient,
        obj=account,
        summary=summary,
    )


def pending_totp(*, account: PatientAccount, now: dt.datetime) -> CompanionTOTPDevice:
    """The authenticator being set up (one unconfirmed device, made on the first visit)."""
    device = account.companion_totp_devices.filter(confirmed=False).order_by("-pk").first()
    if device is None:
        device = CompanionTOTPDevice.objects.create(
            account=account, key=secrets.token_hex(20), created_at=now
        )
    return device


def totp_secret(device: CompanionTOTPDevice) -> str:
    """The key as an authenticator app's "enter a key" field wants it (base32)."""
    return base64.b32encode(bytes.fromhex(device.key)).decode().rstrip("=")


def totp_config_url(device: CompanionTOTPDevice) -> str:
    """The otpauth:// address the QR code carries (names the clinic, not the patient)."""
    issuer = settings.SITE_NAME
    label = quote(f"{issuer}:companion-{device.account_id}")
    query = urlencode({"secret": totp_secret(device), "issuer": issuer, "digits": 6, "period": 30})
    return f"otpauth://totp/{label}?{query}"


def _matches(device: CompanionTOTPDevice, token: str, now: dt.datetime) -> bool:
    token = token.strip().replace(" ", "")
    if not token.isdigit() or len(token) != 6:
        return False
    totp = TOTP(bytes.fromhex(device.key), step=30, t0=0, digits=6, drift=0)
    totp.time = now.timestamp()
    if not totp.verify(int(token), tolerance=TOLERANCE, min_t=device.last_t + 1):
        return False
    device.last_t = totp.t()
    device.save(update_fields=["last_t"])
    return True


def confirm_totp(
    *, account: PatientAccount, device: CompanionTOTPDevice, token: str, now: dt.datetime
) -> bool:
    """Confirms the authenticator if the code matches (from now on every sign-in asks for it)."""
    if device.account_id != account.pk or device.confirmed:
        return False
    with transaction.atomic():
        if not _matches(device, token, now):
            return False
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        account.companion_totp_devices.filter(confirmed=False).delete()
        _audit(account, "companion.factor_enrolled", "Authenticator app added")
    return True


def check_totp(*, account: PatientAccount, token: str, now: dt.datetime) -> Attempt:
    """The second step of a sign-in with an authenticator: counts toward the lock."""
    with transaction.atomic():
        until = lockout.locked_until(account, now=now)
        if until is not None:
            record_failure(account, how="authenticator code, while locked", locked=None)
            return Attempt(Outcome.LOCKED, account, until)
        devices = account.companion_totp_devices.select_for_update().filter(confirmed=True)
        if any(_matches(device, token, now) for device in devices):
            lockout.clear(account)
            _audit(account, "companion.second_factor_passed", "Authenticator code accepted")
            return Attempt(Outcome.SIGNED_IN, account)
        locked = lockout.count_failure(account, now=now)
        record_failure(account, how="authenticator code", locked=locked)
    if locked is not None:
        return Attempt(Outcome.LOCKED, account, locked)
    return Attempt(Outcome.REFUSED, account)


def remove_totp(*, account: PatientAccount) -> None:
    with transaction.atomic():
        removed, _ = account.companion_totp_devices.filter(confirmed=True).delete()
        if removed:
            _audit(account, "companion.factor_removed", "Authenticator app removed")


def remove_passkey(*, account: PatientAccount, passkey_id: int) -> bool:
    """Removes one of the patient's own passkeys (another's id finds nothing)."""
    with transaction.atomic():
        removed, _ = account.companion_passkeys.filter(pk=passkey_id).delete()
        if removed:
            _audit(account, "companion.factor_removed", "Passkey removed")
    return bool(removed)


def add_passkey(
    *,
    account: PatientAccount,
    credential_id: str,
    public_key: bytes,
    sign_count: int,
    name: str,
    now: dt.datetime,
) -> CompanionPasskey:
    with transaction.atomic():
        passkey = CompanionPasskey.objects.create(
            account=account,
            credential_id=credential_id,
            public_key=public_key,
            sign_count=sign_count,
            name=name[:60] or "Passkey",
            created_at=now,
        )
        _audit(account, "companion.factor_enrolled", "Passkey added")
    return passkey


def passkey_used(*, passkey: CompanionPasskey, new_sign_count: int, now: dt.datetime) -> None:
    with transaction.atomic():
        passkey.sign_count = new_sign_count
        passkey.last_used_at = now
        passkey.save(update_fields=["sign_count", "last_used_at"])
        lockout.clear(passkey.account)
        _audit(passkey.account, "companion.second_factor_passed", "Passkey accepted")


def passkey_refused(*, account: PatientAccount, now: dt.datetime) -> None:
    with transaction.atomic():
        locked = lockout.count_failure(account, now=now)
        record_failure(account, how="passkey", locked=locked)


def enrolled(account: PatientAccount) -> dict[str, object]:
    """What the settings and second-factor pages show."""
    return {
        "totp": account.companion_totp_devices.filter(confirmed=True).exists(),
        "passkeys": list(account.companion_passkeys.filter(confirmed=True).order_by("pk")),
    }
