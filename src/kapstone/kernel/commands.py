"""The base of the commands the service manager runs on a timer, and that operators run by hand."""

from __future__ import annotations

from django.core.management.base import BaseCommand


class OperationalCommand(BaseCommand):
    """A management command that does one operational job (a backup, a reminder run, a check of the
    audit chain) and skips Django's system checks at start.

    Those checks import every view to check the URL configuration: about a second of CPU on every
    start, on every timer tick, for checks that belong to a release. `kapstone release` runs them,
    deploy checks included, before a new version serves anyone, and `kapstone check` runs them on
    demand; a setting the commands cannot run with is refused when the settings load, whatever the
    command."""

    requires_system_checks: list[str] = []
