"""One-time links: issued with a fresh 256-bit token (only its SHA-256 hash is stored), redeemed once.

The token travels only in the e-mail; the database holds its hash, so a copy of the table signs no
one in. Links are made by the invitation and sign-in services, in their transactions."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.urls import reverse

from kapstone.assessments.tokens import new_token, token_hash
from kapstone.companion.models import LinkPurpose, PatientAccount, SignInLink


def lifetime(purpose: LinkPurpose) -> dt.timedelta:
    """Clinic settings: an invitation waits days in an inbox, a sign-in link minutes."""
    if purpose == LinkPurpose.INVITATION:
        return dt.timedelta(days=settings.COMPANION_INVITATION_DAYS)
    return dt.timedelta(minutes=settings.COMPANION_LINK_MINUTES)


def issue(*, account: PatientAccount, purpose: LinkPurpose, now: dt.datetime) -> str:
    """A new link for the account; returns its absolute address (with the token). Earlier unused
    links of the same purpose die with it, so only the newest e-mail works."""
    SignInLink.objects.filter(account=account, purpose=purpose, used_at__isnull=True).update(
        expires_at=now
    )
    token = new_token()
    SignInLink.objects.create(
        account=account,
        purpose=purpose,
        token_hash=token_hash(token),
        created_at=now,
        expires_at=now + lifetime(purpose),
    )
    path = reverse("companion:link", kwargs={"token": token})
    return f"{settings.KAPSTONE_BASE_URL}{path}"


def usable(token: str, *, now: dt.datetime) -> SignInLink | None:
    """The link this token opens, if it is unused, unexpired and its account active."""
    link = (
        SignInLink.objects.select_related("account__patient")
        .filter(token_hash=token_hash(token))
        .first()
    )
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    if not link.account.is_active:
        return None
    return link
