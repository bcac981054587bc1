"""Reads for secure messages. A patient's threads are always read within that patient's rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Subquery

from kapstone.accounts.models import StaffUser
from kapstone.messaging.models import Message, Thread
from kapstone.patients.models import Patient


def _last_message(thread_ref: str = "pk") -> QuerySet[Message]:
    return Message.objects.filter(thread=OuterRef(thread_ref)).order_by("-sent_at", "-pk")


def threads_of(patient: Patient) -> QuerySet[Thread]:
    """The patient's threads, newest activity first, each with its counts and whether the last
    word is the patient's (awaiting a reply)."""
    return (
        Thread.objects.filter(patient=patient)
        .annotate(
            last_at=Max("messages__sent_at"),
            message_count=Count("messages"),
            unread_by_patient=Count(
                "messages",
                filter=Q(messages__author__isnull=False, messages__receipt__isnull=True),
            ),
            unread_by_staff=Count(
                "messages",
                filter=Q(messages__account__isnull=False, messages__receipt__isnull=True),
            ),
            any_urgent=Exists(Message.objects.filter(thread=OuterRef("pk"), urgent=True)),
            awaiting_reply=Subquery(
                _last_message().values("account_id")[:1]
            ),  # the last message's patient account, or None when staff spoke last
        )
        .order_by("-last_at", "-pk")
    )


def thread_of(patient: Patient, thread_id: int) -> Thread | None:
    """One of the patient's threads, or None (another patient's thread is not found)."""
    return Thread.objects.filter(patient=patient, pk=thread_id).first()


def messages_in(thread: Thread) -> list[Message]:
    """The thread's messages, oldest first, each with its author and read receipt."""
    return list(
        thread.messages.select_related("author", "receipt", "receipt__reader").order_by(
            "sent_at", "pk"
        )
    )


@dataclass(frozen=True, slots=True)
class Unanswered:
    """A patient on the day board with messages awaiting a reply."""

    patient_id: int
    patient_name: str
    threads: int
    urgent: bool
    waiting_since: dt.datetime  # the oldest unanswered last message
    thread_id: int  # the thread waiting longest, to open first


def unanswered_for(*, user: StaffUser) -> list[Unanswered]:
    """Threads of the user's own patients (their care team) whose last message is the patient's:
    one query, whatever the number of patients or messages."""
    rows = (
        Message.objects.filter(
            Q(patient__prescriber=user) | Q(patient__therapist=user) | Q(patient__nurse=user),
            account__isnull=False,
            pk=Subquery(_last_message("thread_id").values("pk")[:1]),
        )
        .annotate(
            thread_urgent=Exists(Message.objects.filter(thread=OuterRef("thread_id"), urgent=True))
        )
        .select_related("patient")
        .order_by("sent_at", "pk")
    )
    found: dict[int, Unanswered] = {}
    for m in rows:
        seen = found.get(m.patient_id)
        if seen is None:
            found[m.patient_id] = Unanswered(
                patient_id=m.patient_id,
                patient_name=m.patient.display_name,
                threads=1,
                urgent=bool(m.thread_urgent),
                waiting_since=m.sent_at,
                thread_id=m.thread_id,
            )
        else:
            found[m.patient_id] = Unanswered(
                patient_id=seen.patient_id,
                patient_name=seen.patient_name,
                threads=seen.threads + 1,
                urgent=seen.urgent or bool(m.thread_urgent),
                waiting_since=seen.waiting_since,
                thread_id=seen.thread_id,
            )
    return sorted(found.values(), key=lambda u: (not u.urgent, u.waiting_since))
