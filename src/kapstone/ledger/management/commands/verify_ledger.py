"""``kapstone verify_ledger``: the ledger's hash chain, its balances replayed through the core, and
the medication record's doses against the ledger's 'given' entries."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from kapstone.kernel.commands import OperationalCommand
from kapstone.ledger.verify import verify_caches, verify_chain, verify_doses


class Command(OperationalCommand):
    help = "Check the controlled-substance ledger's hash chain and that its balances add up."

    def handle(self, *args: Any, **options: Any) -> None:
        checked, broken = verify_chain()
        if broken is not None:
            raise CommandError(
                f"Ledger chain broken at {broken.describe()} ({checked} entries before it are intact)."
            )
        wrong = verify_caches()
        if wrong is not None:
            raise CommandError(f"Ledger does not add up: {wrong.describe()}.")
        disagree = verify_doses()
        if disagree is not None:
            raise CommandError(
                f"The medication record and the ledger disagree: {disagree.describe()}."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Ledger chain intact: {checked} entries verified; balances and draws agree with "
                "them, and every charted dose with its 'given' entry."
            )
        )
