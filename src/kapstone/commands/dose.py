"""``kapstone dose``: the dose calculator as JSON.

Prints the calculation (or an ascending schedule) on stdout and exits 0; a refusal prints the JSON
list of problems (field, problem, accepts) on stderr and exits 2. Uses the default dosing policy.
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal, InvalidOperation
from typing import NoReturn

from kapstone.clinical.dosing import (
    GLUE2017_ASCENDING_MG_PER_KG,
    DoseProblem,
    DoseRefused,
    DoseRequest,
    ascending_schedule,
    calculate_dose,
)
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
    p.add_argument("--sessions", type=int, default=len(GLUE2017_ASCENDING_MG_PER_KG))
    p.add_argument("--steps", help="comma-separated mg/kg steps, e.g. 0.25,0.5,1.0")
    return p


def _decimal(problems: list[DoseProblem], name: str, raw: str | None) -> Decimal | None:
    if raw is None:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        problems.append(DoseProblem(name, f"{raw!r} is not a number", "a decimal number"))
        return None
    if not value.is_finite():
        problems.append(DoseProblem(name, f"{raw!r} is not a finite number", "a decimal number"))
        return None
    return value


def _refuse(problems: tuple[DoseProblem, ...] | list[DoseProblem]) -> int:
    json.dump([p.to_dict() for p in problems], sys.stderr, indent=2, ensure_ascii=False)
    sys.stderr.write("\n")
    return EXIT_REFUSED


def run(argv: list[str]) -> int:
    try:
        args = _parser().parse_args(argv)
    except _UsageError as error:
        return _refuse([DoseProblem("arguments", str(error), "see kapstone dose --help")])

    problems: list[DoseProblem] = []
    try:
        route = Route(args.route)
    except ValueError:
        return _refuse([DoseProblem("route", f"{args.route!r} is not a route", ", ".join(Route))])
    numbers = {
        name: _decimal(problems, name, getattr(args, name))
        for name in ("weight_kg", "mg_per_kg", "mg", "concentration_mg_per_ml", "minutes")
    }
    steps: tuple[Decimal, ...] = GLUE2017_ASCENDING_MG_PER_KG
    if args.steps is not None:
        parsed = [_decimal(problems, "steps", s.strip()) for s in args.steps.split(",")]
        steps = tuple(s for s in parsed if s is not None)
    if problems:
        return _refuse(problems)

    request = DoseRequest(route=route, **numbers)
    try:
        if args.ascending:
            schedule = ascending_schedule(request, args.sessions, steps)
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
