"""Sending a patient a notification: a link and the clinic's name, never a health detail.

:func:`notify` is what every other app calls. It writes the :class:`Notification` row first (so a
send that fails is recorded and retried, never lost) and sends it after the transaction commits.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from kapstone.companion.models import PatientAccount
from kapstone.notify.models import Channel, Kind, Notification, Status

_SUBJECTS = {
    Kind.INVITATION: "Your invitation to {clinic}",
    Kind.SIGN_IN_LINK: "Your sign-in link for {clinic}",
    Kind.SESSION_DAY_BEFORE: "A reminder from {clinic}",
    Kind.SESSION_MORNING: "A reminder from {clinic}",
    Kind.QUESTIONNAIRE_DUE: "{clinic}: something to do",
    Kind.NEW_MESSAGE: "{clinic}: you have a new message",
}


def _text(kind: Kind, url: str) -> tuple[str, str]:
    clinic = settings.SITE_NAME
    subject = _SUBJECTS[kind].format(clinic=clinic)
    body = f"{subject}.\n\nOpen this link to see it: {url}\n\n{clinic}"
    return subject, body


def notify(
    *, account: PatientAccount, kind: Kind, url: str, now: dt.datetime | None = None
) -> Notification:
    """Records and sends one notification to ``account`` by e-mail, linking to ``url``."""
    now = now or timezone.now()
    subject, body = _text(kind, url)
    note = Notification.objects.create(
        account=account,
        kind=kind,
        channel=Channel.EMAIL,
        to=account.email,
        subject=subject,
        body=body,
        created_at=now,
    )
    transaction.on_commit(lambda: deliver(note_id=note.pk))
    return note


def deliver(*, note_id: int) -> Notification:
    """Sends one queued notification and records the outcome."""
    note = Notification.objects.get(pk=note_id)
    if note.status == Status.SENT:
        return note
    note.attempts += 1
    try:
        send_mail(note.subject, note.body, settings.DEFAULT_FROM_EMAIL, [note.to])
    except Exception as exc:
        note.status = Status.FAILED
        note.last_error = f"{type(exc).__name__}"[:300]
    else:
        note.status = Status.SENT
        note.sent_at = timezone.now()
        note.last_error = ""
    note.save(update_fields=["attempts", "status", "last_error", "sent_at"])
    return note
