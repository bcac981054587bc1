"""`kapstone send_notifications [--now ISO]`: sends every patient notification now due.

The backstop when no task worker runs (the worker sends them as they fall due): a systemd timer
runs it every few minutes (deploy/systemd/kapstone-send-notifications.timer). A row is locked while
it is sent, so a run beside the worker sends nothing twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from kapstone.kernel.commands import OperationalCommand
from kapstone.notify.services import send_due


def parse_now(raw: str | None) -> dt.datetime:
    """``--now`` as an aware instant (the current time when absent; a naive one is UTC)."""
    if not raw:
        return timezone.now()
    try:
        moment = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise CommandError(
            f"--now must be an ISO date and time, like 2026-12-07T09:00Z; got {raw!r}"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class Command(OperationalCommand):
    help = "Sends the patient notifications now due (e-mails and texts), retrying failed ones."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", help="Act as if it were this instant (ISO 8601).")

    def handle(self, *args: Any, now: str | None = None, **options: Any) -> None:
        outcomes = send_due(now=parse_now(now))
        # Counts only: the output may land in logs, which hold no patient data.
        shown = " ".join(f"{status}={count}" for status, count in sorted(outcomes.items()))
        self.stdout.write(shown or "nothing due")
