"""``kapstone dose``: the dose calculator as JSON.

Prints the calculation (or an ascending schedule) on stdout and exits 0; a refusal prints the JSON
list of problems (field, problem, accepts) on stderr and exits 2. Uses the default dosing policy.
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from typing import NoReturn

from kapstone.clinical.dosing import (
    GLUE2017_ASCENDING_MG_PER_KG,
    DoseRefused,
    DoseRequest,
    ascending_schedule,
    calculate_dose,
)
from kapstone.clinical.numbers import (
    MAX_NUMBER_CHARS,
    NumberError,
    NumberFormat,
    parse_number,
    parse_whole,
)
from kapstone.clinical.plausibility import MAX_SCHEDULE_SESSIONS, SCHEDULE_SESSIONS
from kapstone.clinical.problems import Problem
from kapstone.clinical.routes import Route

EXIT_REFUSED = 2


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    # argparse would print plain-text usage and exit; callers of this command read JSON instead.
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def _parser() -> _Parser:
    p = _Parser(prog="kapstone dose", description=__doc__)
    p.add_argument("--route", required=True, help=", ".join(r.value for r in Route))
    p.add_argument("--weight-kg", dest="weight_kg")
    p.add_argument("--mg-per-kg", dest="mg_per_kg")
    p.add_argument("--mg", dest="mg", help="fixed dose (esketamine 28/56/84, lozenge, oral)")
    p.add_argument("--concentration-mg-per-ml", dest="concentration_mg_per_ml")
    p.add_argument("--minutes", dest="minutes", help="IV infusion duration")
    p.add_argument(
        "--ascending",
        action="store_true",
        help="per-session doses of an ascending course (default 0.25,0.5,1.0 mg/kg, GLUE2017)",
    )
    p.add_argument(
        "--sessions",
        default=str(len(GLUE2017_ASCENDING_MG_PER_KG)),
        help=f"number of sessions, 1 to {MAX_SCHEDULE_SESSIONS}",
    )
    p.add_argument("--steps", help="comma-separated mg/kg steps, e.g. 0.25,0.5,1.0")
    return p


_DECIMAL = NumberFormat("a decimal number", "0.5", places=6, signed=True)


def _decimal(problems: list[Problem], name: str, raw: str | None) -> Decimal | None:
    """The strict reader: ASCII digits and a point, bounded length (no "1e999999", no "٣")."""
    if raw is None:
        return None
    try:
        return parse_number(raw, _DECIMAL)
    except NumberError:
        shown = raw if len(raw) <= MAX_NUMBER_CHARS else raw[:MAX_NUMBER_CHARS] + "…"
        problems.append(Problem(name, f"{shown!r} is not a number", "a decimal number"))
        return None


def _sessions(problems: list[Problem], raw: str) -> int:
    accepts = (
        f"a whole number from 1 to {MAX_SCHEDULE_SESSIONS} ({SCHEDULE_SESSIONS.source.cite()})"
    )
    try:
        value = parse_whole(raw, NumberFormat("the number of sessions", "6"))
    except NumberError:
        shown = raw if len(raw) <= MAX_NUMBER_CHARS else raw[:MAX_NUMBER_CHARS] + "…"
        problems.append(Problem("sessions", f"{shown!r} is not a whole number", accepts))
        return 0
    if not 1 <= value <= MAX_SCHEDULE_SESSIONS:
        problems.append(Problem("sessions", f"{value} sessions", accepts))
    return value


def _refuse(problems: tuple[Problem, ...] | list[Problem]) -> int:
    refusal = [{"field": p.field, "problem": p.message, "accepts": p.accepts} for p in problems]
    json.dump(refusal, sys.stderr, indent=2, ensure_ascii=False)
    sys.stderr.write("\n")
    return EXIT_REFUSED


def run(argv: list[str]) -> int:
    try:
        args = _parser().parse_args(argv)
    except _UsageError as error:
        return _refuse([Problem("arguments", str(error), "see kapstone dose --help")])

    problems: list[Problem] = []
    try:
        route = Route(args.route)
    except ValueError:
        return _refuse([Problem("route", f"{args.route!r} is not a route", ", ".join(Route))])
    numbers = {
        name: _decimal(problems, name, getattr(args, name))
        for name in ("weight_kg", "mg_per_kg", "mg", "concentration_mg_per_ml", "minutes")
    }
    steps: tuple[Decimal, ...] = GLUE2017_ASCENDING_MG_PER_KG
    if args.steps is not None:
        raw_steps = args.steps.split(",")
        if len(raw_steps) > MAX_SCHEDULE_SESSIONS:
            problems.append(
                Problem("steps", f"{len(raw_steps)} steps", f"at most {MAX_SCHEDULE_SESSIONS}")
            )
            raw_steps = []
        parsed = [_decimal(problems, "steps", s.strip()) for s in raw_steps]
        steps = tuple(s for s in parsed if s is not None)
    sessions = _sessions(problems, args.sessions)
    if problems:
        return _refuse(problems)

    request = DoseRequest(route=route, **numbers)
    try:
        if args.ascending:
            schedule = ascending_schedule(request, sessions, steps)
            output: dict[str, object] = {
                "schedule": [
                    {"session": n, **c.to_dict()} for n, c in enumerate(schedule, start=1)
                ],
                "policy_version": schedule[0].policy_version,
            }
        else:
            output = calculate_dose(request).to_dict()
    except DoseRefused as refused:
        return _refuse(refused.problems)
    json.dump(output, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0
