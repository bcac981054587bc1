"""``kapstone monitor_listener``: the MLLP listener for bedside monitors, as its own process."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import multiprocessing
import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from kapstone.monitors.listener import Listener


class Command(BaseCommand):
    help = "Listen for HL7 v2 ORU^R01 messages from bedside monitors over MLLP."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on.")
        parser.add_argument("--port", type=int, default=2575, help="Port (HL7's is 2575).")
        parser.add_argument(
            "--workers", type=int, default=4, help="Threads writing to the database."
        )
        parser.add_argument(
            "--processes",
            type=int,
            default=1,
            help="Listener processes sharing the port (SO_REUSEPORT): one per core.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # -v 0 (make run): only problems; otherwise a line per message with its answer.
        level = logging.WARNING if options["verbosity"] == 0 else logging.INFO
        logging.getLogger("kapstone.monitors").setLevel(level)
        processes = max(1, options["processes"])
        self.stdout.write(
            f"Listening for monitors on {options['host']}:{options['port']} (MLLP)"
            + (f", {processes} processes" if processes > 1 else "")
        )
        if processes > 1:
            self._serve_in_processes(options, processes)
            return
        listener = Listener(options["host"], options["port"], workers=options["workers"])
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

    def _serve_in_processes(self, options: dict[str, Any], processes: int) -> None:
        # No database connection may cross a fork.
        connections.close_all()
        context = multiprocessing.get_context("fork")
        children = [
            context.Process(
                target=_serve,
                args=(options["host"], options["port"], options["workers"]),
                daemon=True,
            )
            for _ in range(processes)
        ]
        for child in children:
            child.start()

        def stop(signum: int, frame: object) -> None:
            for child in children:
                child.terminate()

        signal.signal(signal.SIGTERM, stop)
        try:
            for child in children:
                child.join()
        except KeyboardInterrupt:
            stop(signal.SIGINT, None)
        if any(child.exitcode not in (0, -signal.SIGTERM) for child in children):
            raise CommandError("a listener process stopped; see the log above")


def _serve(host: str, port: int, workers: int) -> None:
    listener = Listener(host, port, workers=workers, reuse_port=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(listener.serve_forever())
