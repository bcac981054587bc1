"""``kapstone eligibility --facts FILE``: screen intake facts and print the decision as JSON.

Exit 0 with the decision on stdout whatever the decision is; exit 2 with a JSON list of problems on
stderr when the facts (or the command line) cannot be used. ``--facts -`` reads stdin.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

from kapstone.clinical.eligibility import (
    EligibilityPolicy,
    IntakeFactsError,
    assess,
    facts_from_json,
)
from kapstone.commands._json import JsonRefused, load

USAGE_ERROR = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse's own exit, but as JSON problems
        _problems([{"path": "argv", "message": message, "accepted": self.format_usage().strip()}])
        raise SystemExit(USAGE_ERROR)


def run(argv: list[str]) -> int:
    parser = _Parser(prog="kapstone eligibility", description=__doc__)
    parser.add_argument("--facts", required=True, help="facts JSON file, or - for stdin")
    parser.add_argument(
        "--on",
        help="screening date (YYYY-MM-DD); defaults to the facts' recorded_on",
    )
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)

    try:
        text = sys.stdin.read() if args.facts == "-" else _read(args.facts)
    except OSError as error:
        return _problems([_problem("--facts", f"cannot read: {error.strerror}", "a readable file")])
    except UnicodeDecodeError:
        return _problems([_problem("--facts", "not UTF-8 text", "a UTF-8 JSON file")])
    try:
        data = load(text)
    except JsonRefused as error:
        return _problems([_problem("$", str(error), "a JSON object")])

    on: date | None = None
    if args.on is not None:
        try:
            on = date.fromisoformat(args.on)
        except ValueError:
            return _problems([_problem("--on", f"got {args.on!r}", "an ISO date, YYYY-MM-DD")])
    try:
        facts = facts_from_json(data)
        decision = assess(facts, policy=EligibilityPolicy(), on=on or facts.recorded_on)
    except IntakeFactsError as error:
        return _problems([p.as_json() for p in error.problems])

    json.dump(decision.as_json(), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _problem(path: str, message: str, accepted: str) -> dict[str, str]:
    return {"path": path, "message": message, "accepted": accepted}


def _problems(problems: list[dict[str, str]]) -> int:
    json.dump(problems, sys.stderr, indent=2)
    sys.stderr.write("\n")
    return USAGE_ERROR
