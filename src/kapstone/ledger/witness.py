"""A second staff member witnesses a waste, a destruction or a receipt on the same screen.

They type their username and either their password or their authenticator's current code; the
check is audited whether it succeeds or not. Passwords go through ``authenticate`` so django-axes
counts failures against the witness's account exactly as at sign-in, and TOTP codes through
django-otp, which throttles and refuses a code used twice.
"""

from __future__ import annotations

import re

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth import authenticate
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from kapstone.accounts.models import StaffUser
from kapstone.audit.trail import record
from kapstone.clinical.access import CLINICAL_ROLES
from kapstone.errors import InputError

CODE = re.compile(r"\d{6}")


class _Locked(Exception):
    pass


def _checked_by(request: HttpRequest, witness: StaffUser, secret: str) -> str | None:
    """How the witness proved it was them ('authenticator code' or 'password'), or None."""
    if CODE.fullmatch(secret):
        # Six digits cannot be a password here (at least 12 characters, not all digits).
        for device in TOTPDevice.objects.filter(user=witness, confirmed=True):
            if device.verify_token(secret):
                return "authenticator code"
        return None
    credentials = {"username": witness.get_username()}
    if AxesProxyHandler.is_locked(request, credentials):
        raise _Locked
    user = authenticate(request, username=witness.get_username(), password=secret)
    if getattr(request, "axes_locked_out", False):
        # This failure locked the witness's account; say so here rather than let axes' middleware
        # replace the whole page with the sign-in lockout screen meant for the person signed in.
        request.axes_locked_out = False  # type: ignore[attr-defined]
        raise _Locked
    if user is not None and user.pk == witness.pk:
        return "password"
    return None


def confirm_witness(
    *, request: HttpRequest, actor: StaffUser, username: str, secret: str, purpose: str
) -> StaffUser:
    """The witnessing staff member once their credentials check out; InputError otherwise.

    ``purpose`` says what is witnessed (for the audit row), e.g. "waste of 5 mg from draw #12".
    """
    username = (username or "").strip()
    secret = (secret or "").strip()
    errors: dict[str, list[str]] = {}
    if not username:
        errors["witness"] = ["Enter the witnessing staff member's username."]
    if not secret:
        errors["witness_secret"] = [
            "The witness enters their own password or their authenticator's current code."
        ]
    if errors:
        raise InputError(errors)
    witness = StaffUser.objects.filter(username=username, is_active=True).first()
    field, problem, method = "witness", "", None
    if witness is None:
        problem = f"No active staff member has the username {username!r}."
    elif witness.pk == actor.pk:
        problem = "The witness must be a second staff member, not you."
    elif witness.staff_role not in CLINICAL_ROLES:
        problem = (
            f"A witness must hold a clinical role; {witness.display_name} is "
            f"{witness.staff_role.label.lower()}."
        )
    else:
        try:
            method = _checked_by(request, witness, secret)
        except _Locked:
            field = "witness_secret"
            problem = (
                f"{witness.display_name}'s account is locked after too many wrong attempts; "
                "ask another witness."
            )
        else:
            if method is None:
                field = "witness_secret"
                problem = (
                    f"That is not {witness.display_name}'s password or current authenticator code."
                )
    record(
        actor=actor,
        action="ledger.witness_refused" if problem else "ledger.witness_confirmed",
        obj=witness,
        summary=(
            f"Witness {username} for {purpose}: "
            + (problem if problem else f"confirmed by {method}")
        ),
        after={"witness": username, "purpose": purpose, "method": method, "refused": problem},
    )
    if problem:
        raise InputError.single(field, problem)
    assert witness is not None
    return witness
