"""``kapstone audit verify`` walks the hash chain and names the first broken link; ``kapstone audit
anchor`` prints (and keeps) the newest entry's seq and hash, to check the chain against later;
``kapstone audit drain`` chains the read events waiting in the queue."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.management.base import CommandError, CommandParser
from django.core.validators import validate_email

from kapstone.audit.anchor import (
    AnchorError,
    check_anchor,
    current_anchor,
    read_anchor,
    write_anchor,
)
from kapstone.audit.trail import drain_read_queue, queued_reads, verify_chain
from kapstone.kernel.commands import OperationalCommand


class Command(OperationalCommand):
    help = "Audit trail tools."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser(
            "verify",
            help="Check every row's hash, its link to the row before, and the chain head.",
        )
        verify.add_argument(
            "--anchor",
            type=Path,
            help="An anchor file (from `audit anchor`) or a backup manifest.json: the entry it names "
            "must still exist with the same hash.",
        )
        anchor = sub.add_parser(
            "anchor",
            help="Print the newest entry's seq and hash as JSON, to keep outside the database.",
        )
        anchor.add_argument(
            "--output",
            help="Also write it: into a new file named by date if this is a folder (or ends with /), "
            "else to this new file. Owner-only permissions; an existing file is never overwritten.",
        )
        anchor.add_argument(
            "--mail-to",
            action="append",
            default=[],
            metavar="ADDRESS",
            help="Also e-mail it to this address (repeatable). It carries no patient data.",
        )

        sub.add_parser(
            "drain",
            help="Chain every queued read event now (readers queue them; the next writer chains them).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "verify":
            self._verify(options["anchor"])
            self._queue_note()
        elif options["action"] == "drain":
            self.stdout.write(f"{drain_read_queue()} queued read events chained.")
        else:
            # The anchor covers every read event so far: chain the queued ones first.
            drain_read_queue()
            self._anchor(options["output"], options["mail_to"])

    def _queue_note(self) -> None:
        pending, oldest = queued_reads()
        if pending:
            self.stderr.write(
                f"{pending} read events are queued, not yet chained (the oldest at "
                f"{oldest:%Y-%m-%d %H:%M:%S %Z}); the next chained write, or `kapstone audit drain`, "
                "chains them."
            )

    def _verify(self, anchor_path: Path | None) -> None:
        anchored = None
        if anchor_path is not None:
            try:
                anchored = read_anchor(anchor_path)
            except AnchorError as exc:
                raise CommandError(str(exc)) from exc
        checked, broken = verify_chain()
        if broken is not None:
            raise CommandError(
                f"Audit chain broken at {broken.describe()} ({checked} rows before it are intact)."
            )
        if anchored is not None:
            problem = check_anchor(*anchored)
            if problem is not None:
                raise CommandError(
                    f"Audit chain does not match the anchor {anchor_path}: {problem}. "
                    f"The {checked} rows are consistent with each other, so the chain was rewritten "
                    "from that point on, head included."
                )
            self.stdout.write(
                self.style.SUCCESS(
                    f"Audit chain intact: {checked} rows verified; entry #{anchored[0]} matches "
                    f"the anchor {anchor_path}."
                )
            )
            return
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {checked} rows verified."))

    def _anchor(self, output: str | None, mail_to: list[str]) -> None:
        for address in mail_to:
            try:
                validate_email(address)
            except ValidationError as exc:
                raise CommandError(f"--mail-to {address!r} is not an e-mail address") from exc
        # An anchor of a chain that is already broken would vouch for the damage: refuse it.
        checked, broken = verify_chain()
        if broken is not None:
            raise CommandError(
                f"Not anchoring: audit chain broken at {broken.describe()} "
                f"({checked} rows before it are intact)."
            )
        anchor = current_anchor()
        text = json.dumps(anchor.as_json())
        self.stdout.write(text)
        if output is not None:
            try:
                written = write_anchor(anchor, output)
            except FileExistsError as exc:
                raise CommandError(
                    f"{exc.filename} already exists; anchors are never overwritten"
                ) from exc
            except OSError as exc:
                raise CommandError(f"cannot write the anchor to {output}: {exc.strerror}") from exc
            self.stderr.write(f"Anchor written to {written}")
        if mail_to:
            send_mail(
                f"{settings.SITE_NAME} audit anchor #{anchor.seq}",
                "The audit chain's newest entry, to keep outside the clinic's database.\n"
                "Check the chain against it with: kapstone audit verify --anchor FILE\n\n"
                f"{text}\n",
                None,
                mail_to,
            )
