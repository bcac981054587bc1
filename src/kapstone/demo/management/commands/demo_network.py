"""``kapstone demo_network``: builds the synthetic clinic network (bulk, no audit rows)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kapstone.cohorts.models import CourseSummaryState
from kapstone.demo.guard import refuse_production
from kapstone.demo.network import build_network, non_demo_patients


class Command(BaseCommand):
    help = (
        "Build a deterministic synthetic clinic network of N patients with bulk inserts (synthetic "
        "data, no audit rows). Refused on a database holding real (non-demo) patients."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--patients", type=int, default=100_000)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--sites", type=int, default=10)
        parser.add_argument(
            "--now",
            help="The network's present, ISO 8601 (default: now); nothing after it has happened.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        refuse_production(self.__module__.rsplit(".", 1)[-1])
        real = non_demo_patients()
        if real:
            raise CommandError(
                f"This database holds {real} real (non-demo) patients: the synthetic network is "
                "only built on a demo or empty database."
            )
        now = dt.datetime.fromisoformat(options["now"]) if options["now"] else timezone.now()
        if timezone.is_naive(now):
            raise CommandError("--now needs a time zone offset, e.g. 2026-11-21T12:00:00+00:00")
        if options["patients"] < 1:
            raise CommandError("--patients must be at least 1")
        try:
            result = build_network(
                patients=options["patients"],
                seed=options["seed"],
                sites=options["sites"],
                now=now,
                progress=self.stdout.write,
            )
        except (RuntimeError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Built a network of {result.patients} patients (seed {result.seed}) in "
            f"{result.seconds:.1f} s: {sum(result.rows.values())} rows."
        )
        for table, count in result.rows.items():
            self.stdout.write(f"  {table:<40} {count:>10}")
        # Written around the services, so no audit entry tells the cohort dashboard's kept
        # summaries what changed: forget them, and the next view rebuilds them.
        CourseSummaryState.objects.all().delete()
        self.stdout.write(
            "The cohort dashboard rebuilds its course summaries on its next view "
            "(`kapstone cohort_summaries` does it now)."
        )
