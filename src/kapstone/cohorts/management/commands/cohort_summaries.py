"""`kapstone cohort_summaries [--instrument phq9 ...] [--rebuild]`: bring the cohort dashboard's
kept course summaries up to date (or rebuild them) now.

The dashboard page does this itself when little changed, and hands a large refresh to the task
worker; run this after loading data around the services (``kapstone demo_network``), or from cron
at night so the first morning view is instant. Concurrent runs wait for each other.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from kapstone.cohorts.selectors import DASHBOARD_INSTRUMENTS
from kapstone.cohorts.summaries import bring_up_to_date
from kapstone.kernel.commands import OperationalCommand


class Command(OperationalCommand):
    help = "Brings the cohort dashboard's course summaries up to date (or rebuilds them)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--instrument",
            action="append",
            help=f"one of {', '.join(DASHBOARD_INSTRUMENTS)} (default: all of them; repeatable)",
        )
        parser.add_argument("--rebuild", action="store_true", help="recompute every course")

    def handle(
        self, *args: Any, instrument: list[str] | None = None, rebuild: bool = False, **_: Any
    ) -> None:
        chosen = instrument or list(DASHBOARD_INSTRUMENTS)
        unknown = sorted(set(chosen) - set(DASHBOARD_INSTRUMENTS))
        if unknown:
            raise CommandError(
                f"unknown instrument {', '.join(unknown)}: choose from "
                f"{', '.join(DASHBOARD_INSTRUMENTS)}"
            )
        for name in chosen:
            refresh = bring_up_to_date(instrument=name, now=timezone.now(), rebuild=rebuild)
            # Counts only: command output may land in logs, which hold no patient data.
            how = "rebuilt" if refresh.rebuilt else "brought up to date"
            self.stdout.write(f"{name}: {how}, {refresh.patients} patient(s) recomputed")
