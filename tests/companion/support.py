"""Shared by the companion's tests: a patient's account, and a client or browser signed in as it.

Signing in here writes the session exactly as :func:`kapstone.companion.session.sign_in` does (the
sign-in flow itself is tested through its pages in tests/companion/test_sign_in*.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone

from kapstone.companion.models import PatientAccount
from kapstone.companion.session import ACCOUNT_KEY, LAST_ACTION_KEY


def make_account(*, patient, by, email: str = "", language: str = "en-gb") -> PatientAccount:
    """An active account for ``patient``, invited by the member of staff ``by``."""
    now = timezone.now()
    return PatientAccount.objects.create(
        patient=patient,
        email=email or f"patient{patient.pk}@example.invalid",
        language=language,
        invited_at=now - dt.timedelta(days=1),
        invited_by=by,
        activated_at=now,
    )


def patient_client(client, account: PatientAccount):
    """A test client whose session is ``account``'s (no second factor enrolled)."""
    session = client.session
    session[ACCOUNT_KEY] = account.pk
    session[LAST_ACTION_KEY] = timezone.now().timestamp()
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    return client


def patient_cookie(account: PatientAccount, live_server_url: str) -> dict[str, Any]:
    """A Playwright cookie for a browser context signed in as ``account``."""
    store = SessionStore()
    store[ACCOUNT_KEY] = account.pk
    store[LAST_ACTION_KEY] = timezone.now().timestamp()
    store.create()
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": store.session_key,
        "url": live_server_url,
    }
