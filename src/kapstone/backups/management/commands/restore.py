"""``kapstone restore``: load a backup into an empty database, then prove it came back whole."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from kapstone.backups.archive import BackupError, restore_backup
from kapstone.kernel.commands import OperationalCommand


class Command(OperationalCommand):
    help = (
        "Restore a backup folder into the configured (empty) database and research export folder, "
        "then verify the audit chain, its anchor and the ledger."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("backup_dir", type=Path, help="The kapstone-backup-... folder.")
        parser.add_argument(
            "--key-file", type=Path, default=None, help="The age identity of an encrypted backup."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = restore_backup(backup_dir=options["backup_dir"], key_file=options["key_file"])
        except BackupError as error:
            raise CommandError(f"Restore refused: {error}") from error
        for check in report.checks:
            mark = self.style.SUCCESS("ok  ") if check.passed else self.style.ERROR("FAIL")
            self.stdout.write(f"{mark} {check.name}: {check.detail}")
        if not report.ok:
            names = ", ".join(c.name for c in report.failed)
            raise CommandError(
                f"Restore loaded the data but verification FAILED ({names}): do not use this "
                "database as the clinic's record until the failure is explained."
            )
        self.stdout.write(self.style.SUCCESS(f"Restore verified: {report.backup}"))
