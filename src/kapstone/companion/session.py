"""Which patient account a browser session belongs to.

A companion session holds the account's id and the time of its last action; it never holds a staff
sign-in (signing a patient in cycles the session, signing out any member of staff on that browser).
Idle expiry: past ``settings.COMPANION_IDLE_MINUTES`` without an action the session is flushed
(the session cookie's own age, renewed by each action, is the second fence)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest

from kapstone.companion.models import PatientAccount

ACCOUNT_KEY = "companion_account"
LAST_ACTION_KEY = "companion_last_action"
# Set once the account's second factor (TOTP or passkey), if it has one, was passed this session.
SECOND_FACTOR_KEY = "companion_second_factor"


def sign_in(request: HttpRequest, account: PatientAccount, *, now: dt.datetime) -> None:
    """Starts a companion session for ``account`` (a fresh session key: no fixation, no staff)."""
    if request.user.is_authenticated:
        logout(request)
    request.session.cycle_key()
    request.session[ACCOUNT_KEY] = account.pk
    request.session[LAST_ACTION_KEY] = now.timestamp()
    request.session.pop(SECOND_FACTOR_KEY, None)


def mark_second_factor(request: HttpRequest) -> None:
    request.session[SECOND_FACTOR_KEY] = True


def sign_out(request: HttpRequest) -> None:
    request.session.flush()


def current_account(request: HttpRequest, *, now: dt.datetime) -> PatientAccount | None:
    """The signed-in, active account, or None (and the session flushed if it idled out)."""
    session = getattr(request, "session", None)
    if session is None or ACCOUNT_KEY not in session:
        return None
    last = session.get(LAST_ACTION_KEY)
    idle_limit = settings.COMPANION_IDLE_MINUTES * 60
    if last is None or now.timestamp() - float(last) > idle_limit:
        session.flush()
        return None
    account = (
        PatientAccount.objects.select_related("patient").filter(pk=session[ACCOUNT_KEY]).first()
    )
    if account is None or not account.is_active:
        session.flush()
        return None
    session[LAST_ACTION_KEY] = now.timestamp()
    return account


def second_factor_passed(request: HttpRequest) -> bool:
    return bool(request.session.get(SECOND_FACTOR_KEY))
