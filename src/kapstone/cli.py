"""The ``kapstone`` console command.

Pure subcommands (scoring, eligibility, dose) answer without starting Django, so other programs can
call them cheaply; every other subcommand is a Django management command (``kapstone migrate``,
``kapstone audit verify``, ``kapstone demo_clinic`` ...).
"""

from __future__ import annotations

import importlib
import os
import sys

# subcommand -> module exposing ``run(argv: list[str]) -> int``
PURE_COMMANDS = {
    "score": "kapstone.commands.score",
    "eligibility": "kapstone.commands.eligibility",
    "dose": "kapstone.commands.dose",
    "safety_case": "kapstone.safety_case.cli",
    "clinical_changes": "kapstone.safety_case.changes",
}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in PURE_COMMANDS:
        module = importlib.import_module(PURE_COMMANDS[args[0]])
        return int(module.run(args[1:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kapstone.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kapstone", *args])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
