"""`kapstone send_reminders [--now ISO] [--enqueue]`: reminds patients of tomorrow's and today's
sessions and of questionnaires waiting, each reminder once.

A systemd timer runs it every 15 minutes (deploy/systemd/kapstone-send-reminders.timer); running it
again, or twice at once, sends nothing twice. With --enqueue it queues the task for the worker.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from kapstone.kernel.commands import OperationalCommand
from kapstone.notify.management.commands.send_notifications import parse_now
from kapstone.notify.reminders import send_reminders
from kapstone.notify.tasks import send_due_reminders


class Command(OperationalCommand):
    help = "Sends the session and questionnaire reminders now due, each once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", help="Act as if it were this instant (ISO 8601).")
        parser.add_argument(
            "--enqueue", action="store_true", help="Queue the task for the worker instead."
        )

    def handle(
        self, *args: Any, now: str | None = None, enqueue: bool = False, **options: Any
    ) -> None:
        if enqueue:
            result = send_due_reminders.enqueue()
            self.stdout.write(f"queued reminder task {result.id}")
            return
        run = send_reminders(now=parse_now(now))
        shown = " ".join(f"{kind}={count}" for kind, count in sorted(run.sent.items()))
        self.stdout.write(shown or "no reminders due")
