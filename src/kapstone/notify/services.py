"""Sending a patient a notification: a link and the clinic's name, never a health detail.

:func:`notify` is what every other app calls. It follows the patient's preferences (which reminders,
e-mail and/or text, quiet hours), writes one :class:`Notification` row per channel first (so a send
that fails is recorded and retried, never lost) and sends after the transaction commits: an
invitation or a sign-in link at once, by e-mail, whatever the preferences; anything else through
the task worker, after the quiet hours when it falls in them. A failed send is retried with growing
waits and given up after ``settings.NOTIFY_MAX_ATTEMPTS`` attempts; ``kapstone send_notifications``
sends whatever is due when no worker runs.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from typing import Literal, overload
from zoneinfo import ZoneInfo

import phonenumbers
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kapstone.audit.trail import record
from kapstone.companion.models import PatientAccount
from kapstone.errors import InputError
from kapstone.notify import selectors
from kapstone.notify.models import (
    IMMEDIATE_KINDS,
    Channel,
    Kind,
    Notification,
    Preferences,
    Status,
)
from kapstone.notify.providers.email import send_email
from kapstone.notify.providers.errors import SendError
from kapstone.notify.providers.sms import sms_provider
from kapstone.notify.schedule import quiet_until, retry_wait
from kapstone.notify.texts import render
from kapstone.patients.phones import normalise_phone

ImmediateKind = Literal[Kind.INVITATION, Kind.SIGN_IN_LINK]


def site_zone(account: PatientAccount) -> ZoneInfo:
    """The patient's site's time zone (quiet hours and reminder days are read in it)."""
    name = account.patient.home_site.time_zone or settings.TIME_ZONE
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


# -- Preferences ------------------------------------------------------------------------------


def preferences_of(*, account: PatientAccount) -> Preferences:
    """The account's preferences, made with the defaults the first time they are asked for."""
    preferences, _ = Preferences.objects.get_or_create(account=account)
    return preferences


def open_preferences(*, account: PatientAccount) -> Preferences:
    """The preferences the patient opened, with the patient's read in the trail."""
    with transaction.atomic():
        preferences = preferences_of(account=account)
        record(
            actor=None,
            actor_label=account.audit_label,
            patient=account.patient,
            action="notify.preferences.viewed",
            obj=preferences,
        )
    return preferences


_SHOWN = ("by_email", "by_sms", "mobile", "quiet_start", "quiet_end")
_CHOSEN = ("sessions", "questionnaires", "messages")


def _snapshot(preferences: Preferences) -> dict[str, object]:
    values: dict[str, object] = {name: getattr(preferences, name) for name in _SHOWN + _CHOSEN}
    values["quiet_start"] = preferences.quiet_start.strftime("%H:%M")
    values["quiet_end"] = preferences.quiet_end.strftime("%H:%M")
    return values


def _preference_problems(
    *, by_sms: bool, mobile: str, quiet_start: dt.time | None, quiet_end: dt.time | None
) -> tuple[str, dict[str, list[str]]]:
    problems: dict[str, list[str]] = {}
    number, problem = normalise_phone(mobile, region=settings.PHONE_REGION)
    if problem:
        problems["mobile"] = [problem]
    elif by_sms and not number:
        problems["mobile"] = [_("To get text messages, give your mobile number.")]
    if by_sms and sms_provider() is None:
        problems["by_sms"] = [_("This clinic does not send text messages yet.")]
    if quiet_start is None:
        problems["quiet_start"] = [_("Give the time your quiet hours start, like 21:00.")]
    if quiet_end is None:
        problems["quiet_end"] = [_("Give the time your quiet hours end, like 08:00.")]
    return number, problems


def update_preferences(
    *,
    account: PatientAccount,
    by_email: bool,
    by_sms: bool,
    mobile: str,
    quiet_start: dt.time | None,
    quiet_end: dt.time | None,
    sessions: bool,
    questionnaires: bool,
    messages: bool,
    now: dt.datetime | None = None,
) -> Preferences:
    """Saves the patient's choices, audited as theirs; refuses a number that is not a phone number
    and text messages without one, naming each problem."""
    now = now or timezone.now()
    number, problems = _preference_problems(
        by_sms=by_sms, mobile=mobile, quiet_start=quiet_start, quiet_end=quiet_end
    )
    if problems:
        raise InputError(problems)
    assert quiet_start is not None and quiet_end is not None
    with transaction.atomic():
        preferences_of(account=account)
        preferences = Preferences.objects.select_for_update().get(account=account)
        before = _snapshot(preferences)
        preferences.by_email = by_email
        preferences.by_sms = by_sms
        preferences.mobile = number
        preferences.quiet_start = quiet_start.replace(second=0, microsecond=0)
        preferences.quiet_end = quiet_end.replace(second=0, microsecond=0)
        preferences.sessions = sessions
        preferences.questionnaires = questionnaires
        preferences.messages = messages
        preferences.updated_at = now
        preferences.save()
        after = _snapshot(preferences)
        record(
            actor=None,
            actor_label=account.audit_label,
            patient=account.patient,
            action="notify.preferences_changed",
            obj=preferences,
            summary="Notification preferences changed",
            before={k: v for k, v in before.items() if after[k] != v},
            after={k: v for k, v in after.items() if before[k] != v},
        )
    return preferences


# -- Sending ----------------------------------------------------------------------------------


def _e164(mobile: str) -> str:
    return phonenumbers.format_number(
        phonenumbers.parse(mobile, settings.PHONE_REGION), phonenumbers.PhoneNumberFormat.E164
    )


def _channels(account: PatientAccount, preferences: Preferences) -> list[tuple[Channel, str]]:
    chosen: list[tuple[Channel, str]] = []
    if preferences.by_email and account.email:
        chosen.append((Channel.EMAIL, account.email))
    if preferences.by_sms and preferences.mobile and sms_provider() is not None:
        chosen.append((Channel.SMS, _e164(preferences.mobile)))
    return chosen


def _quiet_end(account: PatientAccount, kind: str, at: dt.datetime) -> dt.datetime | None:
    """When ``at`` falls in the patient's quiet hours, their end (never for a sign-in link)."""
    if kind in IMMEDIATE_KINDS:
        return None
    preferences = preferences_of(account=account)
    return quiet_until(
        now=at, start=preferences.quiet_start, end=preferences.quiet_end, zone=site_zone(account)
    )


def notify_each(
    *, account: PatientAccount, kind: Kind, url: str, now: dt.datetime | None = None
) -> list[Notification]:
    """Records ``kind`` for ``account``, one row per channel the patient chose (none when they
    turned this kind off), and sends them once the transaction commits."""
    now = now or timezone.now()
    kind = Kind(kind)
    if kind in IMMEDIATE_KINDS:
        channels = [(Channel.EMAIL, account.email)]
        not_before = None
    else:
        preferences = preferences_of(account=account)
        if not account.is_active or not preferences.wants(kind):
            return []
        channels = _channels(account, preferences)
        not_before = _quiet_end(account, kind, now)
    notes = []
    for channel, to in channels:
        text = render(kind=kind, channel=channel, url=url, language=account.language)
        notes.append(
            Notification.objects.create(
                account=account,
                kind=kind,
                channel=channel,
                to=to,
                subject=text.subject,
                body=text.body,
                created_at=now,
                not_before=not_before,
            )
        )
    ids = [note.pk for note in notes]
    if kind in IMMEDIATE_KINDS:
        # The patient is waiting for this link: sent from here, not the worker.
        transaction.on_commit(lambda: [deliver(note_id=pk) for pk in ids])
    else:
        transaction.on_commit(lambda: _enqueue(ids, not_before or now))
    return notes


@overload
def notify(
    *, account: PatientAccount, kind: ImmediateKind, url: str, now: dt.datetime | None = None
) -> Notification: ...
@overload
def notify(
    *, account: PatientAccount, kind: Kind, url: str, now: dt.datetime | None = None
) -> Notification | None: ...
def notify(
    *, account: PatientAccount, kind: Kind, url: str, now: dt.datetime | None = None
) -> Notification | None:
    """Records and sends ``kind`` to ``account``, linking to ``url`` (see :func:`notify_each`).

    Returns the first row (the e-mail when there is one), or None when the patient chose not to
    hear of this kind; an invitation or a sign-in link always returns its e-mail."""
    notes = notify_each(account=account, kind=kind, url=url, now=now)
    return notes[0] if notes else None


def _enqueue(ids: Sequence[int], when: dt.datetime) -> None:
    from kapstone.notify.tasks import deliver_notification

    for pk in ids:
        deliver_notification.using(run_after=when).enqueue(note_id=pk)


def _send(note: Notification) -> str:
    if note.channel == Channel.EMAIL:
        return send_email(note.to, note.subject, note.body)
    provider = sms_provider()
    if provider is None:
        raise SendError("SmsNotConfigured", retryable=False)
    return provider.send(note.to, note.body)


def _failed(note: Notification, exc: SendError, now: dt.datetime) -> dt.datetime | None:
    """Records the failure; returns when to try again, or None when given up."""
    note.last_error = f"{type(exc).__name__}:{exc.code}"[:300]
    if not exc.retryable or note.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
        note.status = Status.GAVE_UP
        note.not_before = None
        return None
    retry_at = now + retry_wait(note.attempts)
    note.status = Status.FAILED
    note.not_before = _quiet_end(note.account, note.kind, retry_at) or retry_at
    return note.not_before


def deliver(*, note_id: int, now: dt.datetime | None = None) -> Notification:
    """Sends one notification if it is due and not sent, and records the outcome: the provider's
    id, or the error's class and code (never the provider's words, which may quote the message)."""
    now = now or timezone.now()
    with transaction.atomic():
        # Locked, so the worker and the backstop command never send the same row twice.
        note = Notification.objects.select_for_update().select_related("account").get(pk=note_id)
        if note.status in (Status.SENT, Status.GAVE_UP):
            return note
        if note.not_before is not None and note.not_before > now:
            return note
        note.attempts += 1
        retry_at = None
        try:
            provider_id = _send(note)
        except SendError as exc:
            retry_at = _failed(note, exc, now)
        else:
            note.status = Status.SENT
            note.sent_at = now
            note.provider_id = provider_id[:120]
            note.last_error = ""
            note.not_before = None
        note.save(
            update_fields=[
                "attempts",
                "status",
                "last_error",
                "sent_at",
                "provider_id",
                "not_before",
            ]
        )
        if retry_at is not None:
            when = retry_at
            transaction.on_commit(lambda: _enqueue([note_id], when))
    return note


def send_due(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Sends every notification now due (the backstop when no worker runs); counts by outcome."""
    now = now or timezone.now()
    outcomes: Counter[str] = Counter()
    for note_id in selectors.due_ids(now=now):
        outcomes[deliver(note_id=note_id, now=now).status] += 1
    return dict(outcomes)
