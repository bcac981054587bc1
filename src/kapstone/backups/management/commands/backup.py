"""``kapstone backup``: one consistent, checksummed (optionally encrypted) backup folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kapstone.backups.archive import BackupError, create_backup


class Command(BaseCommand):
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

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = create_backup(output_dir=options["output_dir"], key_file=options["key_file"])
        except BackupError as error:
            raise CommandError(f"Backup failed: {error}") from error
        self.stdout.write(f"Backup written: {result.path}")
        self.stdout.write(f"Audit anchor: seq {result.anchor.seq} hash {result.anchor.hash}")
