"""``kapstone monitor_listener``: the MLLP listener for bedside monitors, as its own process."""

from __future__ import annotations

import asyncio
import errno
import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kapstone.monitors.listener import Listener


class Command(BaseCommand):
    help = "Listen for HL7 v2 ORU^R01 messages from bedside monitors over MLLP."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on.")
        parser.add_argument("--port", type=int, default=2575, help="Port (HL7's is 2575).")
        parser.add_argument(
            "--workers", type=int, default=4, help="Threads writing to the database."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # -v 0 (make run): only problems; otherwise a line per message with its answer.
        level = logging.WARNING if options["verbosity"] == 0 else logging.INFO
        logging.getLogger("kapstone.monitors").setLevel(level)
        listener = Listener(options["host"], options["port"], workers=options["workers"])
        self.stdout.write(f"Listening for monitors on {options['host']}:{options['port']} (MLLP)")
        try:
            asyncio.run(listener.serve_forever())
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise CommandError(
                    f"Port {options['port']} is already in use: another listener is running, "
                    "or choose another with --port."
                ) from exc
            raise
        except KeyboardInterrupt:
            pass
