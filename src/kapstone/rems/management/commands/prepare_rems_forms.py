"""`kapstone prepare_rems_forms [--enqueue]`: fill the REMS monitoring form of every signed
esketamine session that has none, so each appears on the queue with its 7-day deadline.

Run it from cron (hourly is plenty) until the chair-side sign-off prepares the form itself;
preparing is idempotent (one form per session), so overlapping runs are harmless.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.utils import timezone

from kapstone.kernel.commands import OperationalCommand
from kapstone.rems.services import prepare_missing_forms
from kapstone.rems.tasks import prepare_rems_forms


class Command(OperationalCommand):
    help = "Prepares the REMS monitoring form of every signed esketamine session without one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--enqueue", action="store_true", help="Queue the task for the task worker instead."
        )

    def handle(self, *args: Any, enqueue: bool = False, **options: Any) -> None:
        if enqueue:
            result = prepare_rems_forms.enqueue()
            self.stdout.write(f"queued REMS form task {result.id}")
            return
        prepared = prepare_missing_forms(by=None, now=timezone.now())
        # A count only: command output may land in logs, which hold no patient data.
        self.stdout.write(f"{len(prepared)} REMS monitoring form(s) prepared")
