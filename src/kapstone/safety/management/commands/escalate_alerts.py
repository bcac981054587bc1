"""`kapstone escalate_alerts [--watch SECONDS]`: tell the medical director of alerts left waiting.

Run it from cron every minute or two, or leave it running with --watch. Escalating is idempotent,
so overlapping runs are harmless.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import CommandParser

from kapstone.kernel.commands import OperationalCommand
from kapstone.safety.services import escalate_overdue_alerts


class Command(OperationalCommand):
    help = "Escalates unacknowledged suicide-risk alerts to the medical director."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--watch",
            type=int,
            metavar="SECONDS",
            help="Keep running, checking every SECONDS (at least 10).",
        )

    def handle(self, *args: Any, watch: int | None = None, **options: Any) -> None:
        if watch is not None and watch < 10:
            self.stderr.write("--watch needs at least 10 seconds between checks.")
            raise SystemExit(2)
        while True:
            escalated = escalate_overdue_alerts()
            # Counts only: the command's output may land in logs, which hold no patient data.
            self.stdout.write(f"escalated {len(escalated)} alert(s)")
            if watch is None:
                return
            time.sleep(watch)
