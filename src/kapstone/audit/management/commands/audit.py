"""``kapstone audit verify``: walks the hash chain and names the first broken link."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kapstone.audit.trail import verify_chain


class Command(BaseCommand):
    help = "Audit trail tools."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="Check every row's hash and its link to the row before.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "verify":
            checked, broken = verify_chain()
            if broken is not None:
                raise CommandError(
                    f"Audit chain broken at {broken.describe()} ({checked} rows before it are intact)."
                )
            self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {checked} rows verified."))
