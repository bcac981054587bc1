"""`kapstone remind_measures [--enqueue]`: e-mail patients the questionnaires now due.

Run it from cron (every 15 minutes is plenty: a measure's due window is hours to days). Reminding
is idempotent, so overlapping runs are harmless. With --enqueue it only queues the task for the
task worker (`kapstone db_worker`) and returns at once.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.utils import timezone

from kapstone.kernel.commands import OperationalCommand
from kapstone.measures.services import send_due_reminders
from kapstone.measures.tasks import send_measure_reminders


class Command(OperationalCommand):
    help = "E-mails each patient one questionnaire link for the measures now due."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Queue the reminder task for the task worker instead of sending here.",
        )

    def handle(self, *args: Any, enqueue: bool = False, **options: Any) -> None:
        if enqueue:
            result = send_measure_reminders.enqueue()
            self.stdout.write(f"queued reminder task {result.id}")
            return
        run = send_due_reminders(now=timezone.now())
        # Counts only: the command's output may land in logs, which hold no patient data.
        self.stdout.write(" ".join(f"{k}={v}" for k, v in run.as_dict().items()))
