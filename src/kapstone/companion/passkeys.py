"""Passkeys (WebAuthn) as a second factor, with py_webauthn: the options the browser's
``navigator.credentials`` calls need, and the verification of what the authenticator answers.

The challenge lives in the patient's session between the two halves of a ceremony (one per
ceremony, used once). The relying party id and origins are settings
(``COMPANION_PASSKEY_RP_ID``/``COMPANION_PASSKEY_ORIGINS``)."""

from __future__ import annotations

import datetime as dt
import json

from django.conf import settings
from django.utils.translation import gettext as _
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from kapstone.companion import factors, lockout
from kapstone.companion.models import CompanionPasskey, PatientAccount
from kapstone.errors import InputError


def _descriptors(account: PatientAccount) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id))
        for p in account.companion_passkeys.filter(confirmed=True)
    ]


def registration_options(account: PatientAccount) -> tuple[str, str]:
    """(options as JSON for the browser, the challenge as base64url for the session)."""
    options = generate_registration_options(
        rp_id=settings.COMPANION_PASSKEY_RP_ID,
        rp_name=settings.SITE_NAME,
        user_id=f"companion-{account.pk}".encode(),
        user_name=f"companion-{account.pk}",
        user_display_name=settings.SITE_NAME,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.DISCOURAGED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=_descriptors(account),
    )
    return options_to_json(options), bytes_to_base64url(options.challenge)


def register(
    *, account: PatientAccount, credential: str, challenge: str, name: str, now: dt.datetime
) -> CompanionPasskey:
    """Verifies the authenticator's answer to :func:`registration_options` and keeps the key."""
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=settings.COMPANION_PASSKEY_RP_ID,
            expected_origin=list(settings.COMPANION_PASSKEY_ORIGINS),
        )
    except (WebAuthnException, ValueError, KeyError, TypeError):
        raise InputError.single(
            "", _("Your device's answer could not be checked, so no passkey was added. Try again.")
        ) from None
    credential_id = bytes_to_base64url(verified.credential_id)
    if CompanionPasskey.objects.filter(credential_id=credential_id).exists():
        raise InputError.single("", _("This passkey is already added."))
    return factors.add_passkey(
        account=account,
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        name=name,
        now=now,
    )


def authentication_options(account: PatientAccount) -> tuple[str, str]:
    options = generate_authentication_options(
        rp_id=settings.COMPANION_PASSKEY_RP_ID,
        allow_credentials=_descriptors(account),
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return options_to_json(options), bytes_to_base64url(options.challenge)


def _credential_id(credential: str) -> str:
    try:
        raw = json.loads(credential)
        return str(raw.get("rawId") or raw.get("id") or "")
    except (ValueError, AttributeError):
        return ""


def authenticate(
    *, account: PatientAccount, credential: str, challenge: str, now: dt.datetime
) -> bool:
    """Whether the assertion is a valid signature by one of the account's own passkeys over this
    challenge; a failure counts toward the lock."""
    if lockout.locked_until(account, now=now) is not None:
        return False
    passkey = account.companion_passkeys.filter(
        confirmed=True, credential_id=_credential_id(credential)
    ).first()
    if passkey is None:
        factors.passkey_refused(account=account, now=now)
        return False
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=settings.COMPANION_PASSKEY_RP_ID,
            expected_origin=list(settings.COMPANION_PASSKEY_ORIGINS),
            credential_public_key=bytes(passkey.public_key),
            credential_current_sign_count=passkey.sign_count,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError):
        factors.passkey_refused(account=account, now=now)
        return False
    factors.passkey_used(passkey=passkey, new_sign_count=verified.new_sign_count, now=now)
    return True
