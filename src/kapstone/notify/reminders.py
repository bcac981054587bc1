"""Reminders the clinic sends on its own: a dosing session the day before and the morning of, and
questionnaires waiting to be answered. (A new message is announced by the messages app itself.)

``kapstone send_reminders`` runs this every few minutes; each reminder has a key (account, kind,
object, day) written once, in the same transaction as its notifications, so running it again, or
twice at once, never sends the same reminder twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse

from kapstone.companion.models import PatientAccount
from kapstone.notify import selectors
from kapstone.notify.models import Kind, ReminderSent
from kapstone.notify.services import notify_each, site_zone

# Local times from which each reminder may go: the day before from noon (the patient has the
# afternoon to arrange the day), the morning of from 07:00. Quiet hours still apply on top.
DAY_BEFORE_FROM = dt.time(12, 0)
MORNING_FROM = dt.time(7, 0)


@dataclass
class ReminderRun:
    """How many reminders of each kind this run sent (counts only: the output may reach logs)."""

    sent: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.sent.values())

    def count(self, kind: Kind) -> None:
        self.sent[kind.value] = self.sent.get(kind.value, 0) + 1


def _link(name: str) -> str:
    return f"{settings.KAPSTONE_BASE_URL}{reverse(name)}"


def remind(
    *, account: PatientAccount, kind: Kind, about: str, day: dt.date, url: str, now: dt.datetime
) -> bool:
    """Sends reminder ``kind`` about ``about`` ("session:12") for ``day`` unless it was sent before;
    whether it was sent now."""
    key = f"{account.pk}:{kind.value}:{about}:{day.isoformat()}"
    with transaction.atomic():
        try:
            with transaction.atomic():
                ReminderSent.objects.create(key=key, account=account, kind=kind, created_at=now)
        except IntegrityError:
            return False
        notify_each(account=account, kind=kind, url=url, now=now)
    return True


def _session_reminders(now: dt.datetime, run: ReminderRun) -> None:
    prepare = _link("preparation:prepare")
    for session in selectors.booked_sessions_between(start=now, end=now + dt.timedelta(days=2)):
        account = session.patient.companion_account
        zone = site_zone(account)
        local = now.astimezone(zone)
        day = session.starts_at.astimezone(zone).date()
        if day == local.date() + dt.timedelta(days=1) and local.time() >= DAY_BEFORE_FROM:
            kind = Kind.SESSION_DAY_BEFORE
        elif day == local.date() and local.time() >= MORNING_FROM:
            kind = Kind.SESSION_MORNING
        else:
            continue
        about = f"session:{session.pk}"
        if remind(account=account, kind=kind, about=about, day=day, url=prepare, now=now):
            run.count(kind)


def _questionnaire_reminders(now: dt.datetime, run: ReminderRun) -> None:
    answer = _link("companion:questionnaires")
    for request in selectors.open_questionnaire_sets(now=now):
        account = request.patient.companion_account
        day = request.sent_at.astimezone(site_zone(account)).date()
        about = f"questionnaires:{request.pk}"
        kind = Kind.QUESTIONNAIRE_DUE
        if remind(account=account, kind=kind, about=about, day=day, url=answer, now=now):
            run.count(kind)


def send_reminders(*, now: dt.datetime) -> ReminderRun:
    """Sends every reminder due at ``now`` that was not sent before."""
    run = ReminderRun()
    _session_reminders(now, run)
    _questionnaire_reminders(now, run)
    return run
