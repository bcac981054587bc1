"""``kapstone backup``: one consistent, checksummed (optionally encrypted) backup folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from kapstone.backups.archive import BackupError, Retention, create_backup, prune
from kapstone.kernel.commands import OperationalCommand


class Command(OperationalCommand):
    help = (
        "Write a backup folder: the database snapshot, the research exports and a manifest with "
        "each file's sha256 and the audit chain's anchor."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output-dir",
            type=Path,
            default=None,
            help="Where the backup folder goes (default: KAPSTONE_BACKUP_DIR).",
        )
        parser.add_argument(
            "--key-file",
            type=Path,
            default=None,
            help="An age key (identity or public recipient): every file but the manifest is "
            "encrypted to it.",
        )

        parser.add_argument(
            "--prune",
            action="store_true",
            help="After a successful backup, remove the older backups the retention keeps no more.",
        )
        parser.add_argument("--keep-daily", type=int, default=Retention.daily, metavar="N")
        parser.add_argument("--keep-weekly", type=int, default=Retention.weekly, metavar="N")
        parser.add_argument("--keep-monthly", type=int, default=Retention.monthly, metavar="N")

    def handle(self, *args: Any, **options: Any) -> None:
        policy = Retention(options["keep_daily"], options["keep_weekly"], options["keep_monthly"])
        if min(policy.daily, policy.weekly, policy.monthly) < 0 or policy.daily < 1:
            raise CommandError("--keep-daily must be at least 1, the others at least 0")
        try:
            result = create_backup(output_dir=options["output_dir"], key_file=options["key_file"])
        except BackupError as error:
            raise CommandError(f"Backup failed: {error}") from error
        self.stdout.write(f"Backup written: {result.path}")
        self.stdout.write(f"Audit anchor: seq {result.anchor.seq} hash {result.anchor.hash}")
        if options["prune"]:
            for removed in prune(result.path.parent, policy):
                self.stdout.write(f"Removed by retention: {removed}")
