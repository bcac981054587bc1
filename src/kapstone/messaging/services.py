"""Writes for secure messages: a patient starts a thread or writes in one, staff reply, and each
side's first reading is receipted.

Each write runs in one transaction with its audit row. A patient's message is screened
(:mod:`kapstone.clinical.message_screening`) before it is stored; an urgent one raises the clinic's
suicide-risk alert in the same transaction, so a message is never stored without its alert. A
staff reply tells the patient with a link only (:func:`kapstone.notify.services.notify`): the text
stays in the companion.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kapstone.accounts.models import StaffUser
from kapstone.audit.trail import record
from kapstone.clinical.message_screening import (
    DEFAULT_SCREENING_POLICY,
    ScreeningDecision,
    ScreeningPolicy,
    screen,
)
from kapstone.companion.models import PatientAccount
from kapstone.errors import InputError
from kapstone.messaging.models import Message, ReadReceipt, Thread, UrgentMessageAlert
from kapstone.notify.models import Kind
from kapstone.notify.services import notify
from kapstone.patients.models import Patient
from kapstone.safety.services import raise_alert

MAX_SUBJECT_CHARS = 120
MAX_BODY_CHARS = 5_000


def current_screening_policy() -> ScreeningPolicy:
    """The screening lists in force (the core's defaults; a clinic edits them with a release)."""
    return DEFAULT_SCREENING_POLICY


def _check_body(body: str, errors: dict[str, list[str]]) -> str:
    text = body.strip()
    if not text:
        errors["body"] = [_("Write your message before sending it.")]
    elif len(text) > MAX_BODY_CHARS:
        errors["body"] = [
            _("Your message is %(length)s characters long; keep it to %(limit)s.")
            % {"length": f"{len(text):,}", "limit": f"{MAX_BODY_CHARS:,}"}
        ]
    return text


def _urgent_alert(message: Message, decision: ScreeningDecision, now: dt.datetime) -> None:
    """Raises the suicide-risk alert for an urgent message; the reason names the message, never
    its words (the alert board is read by more people than the thread)."""
    alert = raise_alert(
        patient=message.patient,
        reason=(
            f"Urgent wording in secure message {message.pk} (thread {message.thread_id}), "
            f"screening policy {decision.policy_version}: read the message now"
        ),
        now=now,
    )
    UrgentMessageAlert.objects.create(message=message, alert=alert)


def _patient_message(
    *, account: PatientAccount, thread: Thread, text: str, now: dt.datetime
) -> Message:
    decision = screen(text, current_screening_policy())
    message = Message.objects.create(
        thread=thread,
        patient=thread.patient,
        account=account,
        body=text,
        sent_at=now,
        urgent=decision.urgent,
        screened_lists=",".join(decision.matched),
        screening_policy_version=decision.policy_version,
    )
    record(
        actor=None,
        actor_label=account.audit_label,
        action="messaging.sent_by_patient",
        patient=thread.patient,
        obj=message,
        summary=f"The patient wrote in message thread {thread.pk}"
        + (" (screened urgent: alert raised)" if decision.urgent else ""),
        after={
            "thread": thread.pk,
            "urgent": decision.urgent,
            "matched": list(decision.matched),
            "screening_policy_version": decision.policy_version,
        },
    )
    if decision.urgent:
        _urgent_alert(message, decision, now)
    return message


def start_thread(
    *,
    account: PatientAccount,
    patient: Patient,
    subject: str,
    body: str,
    now: dt.datetime | None = None,
) -> Message:
    """The patient writes to their care team: a new thread and its first message."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    subject = subject.strip()
    if len(subject) > MAX_SUBJECT_CHARS:
        errors["subject"] = [
            _("Keep the subject to %(limit)s characters.") % {"limit": MAX_SUBJECT_CHARS}
        ]
    text = _check_body(body, errors)
    if account.patient_id != patient.pk:
        errors[""] = [_("This account cannot write for another patient.")]
    if errors:
        raise InputError(errors)
    with transaction.atomic():
        thread = Thread.objects.create(
            patient=patient, subject=subject, started_at=now, started_by=account
        )
        return _patient_message(account=account, thread=thread, text=text, now=now)


def patient_writes(
    *, account: PatientAccount, thread: Thread, body: str, now: dt.datetime | None = None
) -> Message:
    """The patient adds a message to one of their threads."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    text = _check_body(body, errors)
    if thread.patient_id != account.patient_id:
        errors[""] = [_("This conversation is not yours.")]
    if errors:
        raise InputError(errors)
    with transaction.atomic():
        return _patient_message(account=account, thread=thread, text=text, now=now)


def staff_replies(
    *, by: StaffUser, thread: Thread, body: str, now: dt.datetime | None = None
) -> Message:
    """A member of the care team answers; the patient is told by a link, never the text.

    The caller's guard has checked the role and the care team (REPLY_TO_MESSAGES)."""
    now = now or timezone.now()
    text = body.strip()
    if not text:
        raise InputError.single("body", "Write the reply before sending it.")
    if len(text) > MAX_BODY_CHARS:
        raise InputError.single(
            "body", f"The reply is {len(text):,} characters long; keep it to {MAX_BODY_CHARS:,}."
        )
    with transaction.atomic():
        # Reading the thread to answer it is reading every patient message in it.
        _receipt(
            thread.messages.filter(account__isnull=False, receipt__isnull=True), reader=by, now=now
        )
        message = Message.objects.create(
            thread=thread, patient=thread.patient, author=by, body=text, sent_at=now
        )
        record(
            actor=by,
            action="messaging.replied",
            patient=thread.patient,
            obj=message,
            summary=f"Replied in message thread {thread.pk}",
            after={"thread": thread.pk},
        )
        account = PatientAccount.objects.filter(patient=thread.patient, is_active=True).first()
        if account is not None:
            path = reverse("messaging:thread", kwargs={"thread_id": thread.pk})
            notify(
                account=account,
                kind=Kind.NEW_MESSAGE,
                url=f"{settings.KAPSTONE_BASE_URL}{path}",
                now=now,
            )
    return message


def _receipt(
    messages: Iterable[Message], *, reader: StaffUser | None, now: dt.datetime
) -> list[ReadReceipt]:
    """First readings only: a message already receipted keeps its first time (two readers at
    once: the second insert is skipped, not an error)."""
    rows = [ReadReceipt(message=m, read_at=now, reader=reader) for m in messages]
    return ReadReceipt.objects.bulk_create(rows, ignore_conflicts=True) if rows else []


def patient_reads(
    *, account: PatientAccount, thread: Thread, now: dt.datetime | None = None
) -> list[ReadReceipt]:
    """The patient opened the thread: receipts for the staff messages, and the read audited."""
    now = now or timezone.now()
    with transaction.atomic():
        receipts = _receipt(
            thread.messages.filter(author__isnull=False, receipt__isnull=True),
            reader=None,
            now=now,
        )
        record(
            actor=None,
            actor_label=account.audit_label,
            action="messaging.viewed",
            patient=thread.patient,
            obj=thread,
            summary=f"The patient read message thread {thread.pk}",
        )
    return receipts


def staff_reads(
    *, by: StaffUser, thread: Thread, now: dt.datetime | None = None
) -> list[ReadReceipt]:
    """A member of staff opened the thread: the first reading of each patient message, audited."""
    now = now or timezone.now()
    with transaction.atomic():
        receipts = _receipt(
            thread.messages.filter(account__isnull=False, receipt__isnull=True),
            reader=by,
            now=now,
        )
        record(
            actor=by,
            action="messaging.viewed",
            patient=thread.patient,
            obj=thread,
            summary=f"Read message thread {thread.pk}",
        )
    return receipts
