"""``kapstone monitor_simulator``: a bedside monitor replaying a dosing session over MLLP."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kapstone.monitors.simulator import replay


class Command(BaseCommand):
    help = (
        "Replay a dosing session (baseline, a blood pressure rise, an SpO2 dip, recovery) as "
        "ORU^R01 messages to the monitor listener, waiting for each ACK."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=2575)
        parser.add_argument("--device", required=True, help="MSH-3, as registered for the device.")
        parser.add_argument("--facility", default="", help="MSH-4, as registered (may be empty).")
        parser.add_argument("--style", choices=["mdc", "local"], default="mdc")
        parser.add_argument(
            "--speed", type=float, default=60.0, help="Simulated minutes per real minute."
        )
        parser.add_argument("--minutes", type=float, default=150, help="Length of the session.")
        parser.add_argument("--loop", action="store_true", help="Start again at the end.")

    def handle(self, *args: Any, **options: Any) -> None:
        quiet = options["verbosity"] < 2
        run = replay(
            host=options["host"],
            port=options["port"],
            application=options["device"],
            facility=options["facility"],
            style=options["style"],
            speed=options["speed"],
            minutes=options["minutes"],
            loop=options["loop"],
            say=None if quiet else self.stdout.write,
        )
        self.stdout.write(f"Sent {run.sent} messages; acknowledgements: {run.codes}")
