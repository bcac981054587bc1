"""E-mail through Django's mail API: SMTP, the console, or an ESP through django-anymail, as
``KAPSTONE_EMAIL_BACKEND`` says. Anymail reports the ESP's message id; other backends have none."""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import EmailMessage

from kapstone.notify.providers.errors import SendError


def _retryable(exc: Exception) -> bool:
    """An address the server refuses will be refused again; anything else may pass later."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return False
    from anymail.exceptions import AnymailRecipientsRefused  # type: ignore[import-untyped]

    return not isinstance(exc, AnymailRecipientsRefused)


def send_email(to: str, subject: str, body: str) -> str:
    """Sends one plain-text e-mail; returns the ESP's message id ("" when the backend has none)."""
    message = EmailMessage(
        subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[to]
    )
    try:
        message.send()
    except Exception as exc:  # every backend raises its own kinds; all are a failed send
        raise SendError(type(exc).__name__, retryable=_retryable(exc)) from None
    status = getattr(message, "anymail_status", None)
    message_id = getattr(status, "message_id", None)
    return "" if message_id is None else str(message_id)
