"""Unlocking a locked chair-side console: its own user proves it is still them.

Unlike a witness's check (:mod:`kapstone.ledger.witness`), this is the user's own sign-in: a wrong
password counts with django-axes as a failed sign-in, and a wrong code toward django-otp's throttle.
"""

from __future__ import annotations

import re

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth import authenticate
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from kapstone.accounts.models import StaffUser

CODE = re.compile(r"\d{6}")


class LockedOut(Exception):
    """Too many wrong entries: django-axes has locked the account; the console must sign out."""


def _code_checks_out(user: StaffUser, code: str) -> bool:
    # verify_token records the attempt on the device (last used step, throttle): a sign-in step.
    return any(
        device.verify_token(code) for device in TOTPDevice.objects.filter(user=user, confirmed=True)
    )


def proven_by(request: HttpRequest, user: StaffUser, secret: str) -> str | None:
    """How ``user`` proved it is them ('authenticator code' or 'password'), or None.

    Raises :class:`LockedOut` when their account is (or by this entry becomes) locked.
    """
    code = secret.replace(" ", "")
    if CODE.fullmatch(code):
        return "authenticator code" if _code_checks_out(user, code) else None
    credentials = {"username": user.get_username()}
    method = None
    if not AxesProxyHandler.is_locked(request, credentials):
        signed_in = authenticate(request, username=user.get_username(), password=secret)
        if signed_in is not None and signed_in.pk == user.pk:
            method = "password"
    if getattr(request, "axes_locked_out", False) or AxesProxyHandler.is_locked(
        request, credentials
    ):
        # Answered by the console rather than by axes' lockout page replacing the reply.
        request.axes_locked_out = False  # type: ignore[attr-defined]
        raise LockedOut
    return method
