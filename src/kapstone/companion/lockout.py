"""Clinic policy against guessing: ``COMPANION_LOCKOUT_FAILURES`` failed sign-ins in a row (a
password or an authenticator code) lock the account for ``COMPANION_LOCKOUT_MINUTES``. A success
clears the count. Called inside the caller's transaction."""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from kapstone.companion.models import PatientAccount, SignInAttempts


def _attempts(account: PatientAccount) -> SignInAttempts:
    attempts, _ = SignInAttempts.objects.select_for_update().get_or_create(account=account)
    return attempts


def locked_until(account: PatientAccount, *, now: dt.datetime) -> dt.datetime | None:
    """When the lock on the account ends, or None if it is not locked now."""
    attempts = SignInAttempts.objects.filter(account=account).first()
    if attempts is None or attempts.locked_until is None or attempts.locked_until <= now:
        return None
    return attempts.locked_until


def count_failure(account: PatientAccount, *, now: dt.datetime) -> dt.datetime | None:
    """One more failure; returns the end of the lock if this failure locks the account."""
    attempts = _attempts(account)
    if attempts.locked_until is not None and attempts.locked_until <= now:
        attempts.failures = 0  # an ended lock starts a fresh count
        attempts.locked_until = None
    attempts.failures += 1
    if attempts.failures >= settings.COMPANION_LOCKOUT_FAILURES:
        attempts.locked_until = now + dt.timedelta(minutes=settings.COMPANION_LOCKOUT_MINUTES)
        attempts.failures = 0
    attempts.save(update_fields=["failures", "locked_until"])
    return attempts.locked_until


def clear(account: PatientAccount) -> None:
    SignInAttempts.objects.filter(account=account).update(failures=0, locked_until=None)
