"""``kapstone demo_clinic``: loads the synthetic demo clinic (once) and prints its logins."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from kapstone.accounts.models import Site
from kapstone.demo.generator import DEMO_PASSWORD, STAFF, build_demo_clinic
from kapstone.demo.guard import refuse_production
from kapstone.demo.selectors import demo_accounts


class Command(BaseCommand):
    help = "Load the deterministic synthetic demo clinic (skipped if a clinic is already loaded)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--patients", type=int, default=36, help="How many patients (default 36)."
        )
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, **options: Any) -> None:
        refuse_production(self.__module__.rsplit(".", 1)[-1])
        if Site.objects.exists():
            self.stdout.write("A clinic is already loaded here; leaving it as it is.")
        else:
            clinic = build_demo_clinic(
                patients=options["patients"],
                seed=options["seed"],
                today=timezone.localdate(),
                history_until=timezone.now(),
            )
            self.stdout.write(
                f"Loaded the demo clinic: {len(clinic.sites)} sites, {len(clinic.staff)} staff, "
                f"{len(clinic.patients)} patients."
            )
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for every account: {DEMO_PASSWORD})")
        for persona in STAFF:
            self.stdout.write(f"  {persona.username:<12} {persona.role.label}")
        self.stdout.write("")
        accounts = demo_accounts()
        if accounts:
            self.stdout.write(
                f"Patient companion (/me/, on a phone; the same password): {len(accounts)} "
                "mid-course patients"
            )
            for account in accounts:
                self.stdout.write(
                    f"  {account.email:<32} {account.patient.display_name} "
                    f"({account.get_language_display()})"
                )
            self.stdout.write("")
