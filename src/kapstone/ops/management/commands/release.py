"""`kapstone release`: prepare a release in the order that cannot serve a broken page.

collectstatic first (without its manifest, every page of the production profile answers 500),
then migrate, then Django's deploy checks at WARNING. Stops at the first step that fails, saying
which, and exits non-zero.
"""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

# django-htmx ships every htmx build and extension (about 800 KB); base.html loads htmx 2, minified
# (`{% htmx_script minified=True %}`), and no page loads an extension. Collecting the rest made every
# release compress about 750 KB it never serves (Brotli at its highest quality: seconds of CPU).
UNSERVED_STATIC = [
    "django_htmx/htmx-2.js",
    "django_htmx/htmx-4*",
    "django_htmx/htmax-*",
    "django_htmx/ext/*",
]

STEPS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "collect the static files",
        "collectstatic",
        {"interactive": False, "ignore_patterns": UNSERVED_STATIC},
    ),
    ("apply the database migrations", "migrate", {"interactive": False}),
    ("pass Django's deploy checks", "check", {"deploy": True, "fail_level": "WARNING"}),
]


class Command(BaseCommand):
    help = (
        "collectstatic, migrate, check --deploy --fail-level WARNING; stops at the first failure."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = options["verbosity"]
        for number, (purpose, command, kwargs) in enumerate(STEPS, start=1):
            self.stdout.write(f"[{number}/{len(STEPS)}] {command}: {purpose}")
            try:
                call_command(
                    command, verbosity=verbosity, stdout=self.stdout, stderr=self.stderr, **kwargs
                )
            except Exception as exc:  # any failure stops the release, and says where
                raise CommandError(
                    f"Release stopped at step {number} ({command}): could not {purpose}.\n{exc}"
                ) from exc
        self.stdout.write(
            "Release ready: static files collected, migrations applied, checks passed."
        )
