"""`kapstone bootstrap`: a new clinic's first medical director and administrator.

    kapstone bootstrap --director dr.lee --director-email lee@clinic.example \
        --administrator it.kim --administrator-email kim@clinic.example [--site "Main clinic"]

Prints each one-time password once. Refused when staff exist, unless --add names the accounts to
add (one of them or both).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kapstone.clinical.access import Role
from kapstone.errors import InputError
from kapstone.ops.bootstrap import NewAccount, bootstrap


class Command(BaseCommand):
    help = "Create the first medical director and administrator, each with a one-time password."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--director", metavar="USERNAME", help="The medical director's username."
        )
        parser.add_argument("--director-email", metavar="EMAIL")
        parser.add_argument(
            "--administrator", metavar="USERNAME", help="The administrator's username."
        )
        parser.add_argument("--administrator-email", metavar="EMAIL")
        parser.add_argument(
            "--site", default="", help="Also create the first site, with this name."
        )
        parser.add_argument(
            "--add",
            action="store_true",
            help="Staff exist already: add the accounts named here anyway.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        accounts = []
        for role, key in (
            (Role.MEDICAL_DIRECTOR, "director"),
            (Role.ADMINISTRATOR, "administrator"),
        ):
            username, email = options[key], options[f"{key}_email"]
            if bool(username) != bool(email):
                raise CommandError(f"--{key} and --{key}-email go together.")
            if username:
                accounts.append(
                    NewAccount(username=username.strip(), email=email.strip(), role=role)
                )
        try:
            created = bootstrap(accounts=accounts, site_name=options["site"], adding=options["add"])
        except InputError as exc:
            problems = "; ".join(
                f"{field}: {message}" if field else message
                for field, messages in exc.errors.items()
                for message in messages
            )
            raise CommandError(f"Nothing was created. {problems}") from exc
        self.stdout.write(
            "Created the accounts below. Each password is shown only now and works once: its owner "
            "must choose a new one at first sign-in, then set up an authenticator app."
        )
        for entry in created:
            self.stdout.write(
                f"  {entry.user.staff_role.label}: username {entry.user.username}  "
                f"one-time password {entry.one_time_password}"
            )
