"""`kapstone ensure_programs`: adds the clinic's default program templates that are missing.

Idempotent: a program the clinic already has (under its key) is left as the medical director set
it. The first migration seeds them too; this puts them back in a database that lost them (a test
flush) or gains a new default program after an upgrade.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from kapstone.plans.services import ensure_default_templates


class Command(BaseCommand):
    help = "Adds the default program templates the clinic does not have yet."

    def handle(self, *args: Any, **options: Any) -> None:
        created = ensure_default_templates()
        if created:
            for row in created:
                self.stdout.write(f"added {row.ref}: {row.name}")
        else:
            self.stdout.write("every default program is present")
