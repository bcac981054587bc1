"""For the sign-in tests: the link in the last e-mail an account was sent, and a TOTP code."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

from django_otp.oath import TOTP

from kapstone.companion.models import CompanionTOTPDevice, PatientAccount
from kapstone.notify.models import Notification

LINK = re.compile(r"https?://\S+/me/sign-in/link/[A-Za-z0-9_-]+/")


def last_link(account: PatientAccount) -> str:
    """The path of the one-time link in the newest notification to the account."""
    note = Notification.objects.filter(account=account).order_by("-created_at", "-pk").first()
    assert note is not None, "no notification was sent"
    found = LINK.search(note.body)
    assert found, note.body
    return urlsplit(found.group(0)).path


def code_for(device: CompanionTOTPDevice, at: dt.datetime) -> str:
    totp = TOTP(bytes.fromhex(device.key), step=30, t0=0, digits=6, drift=0)
    totp.time = at.timestamp()
    return f"{totp.token():06d}"
