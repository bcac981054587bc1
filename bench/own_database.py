"""What the micro-benches share: the database each runs on is its own, and the line naming the
machine their figures were measured on, and starting Django on that database."""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
from typing import Any
from urllib.parse import urlsplit


def own_database_url(parser: argparse.ArgumentParser, given: str, file_name: str) -> str:
    """``given`` (a PostgreSQL database of the bench's own), or a new SQLite file. A name that
    the test suite or the server itself uses is refused: a bench writes rows and never cleans up."""
    if not given:
        return f"sqlite:///{tempfile.mkdtemp(prefix='kapstone-bench-')}/{file_name}"
    name = urlsplit(given).path.lstrip("/")
    if name.startswith(("test", "postgres", "template")):
        parser.error(f"{name!r} is not a bench database: name one of its own")
    return given


def machine_line(vendor: str) -> str:
    return (
        f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}; "
        f"python {platform.python_version()}; database {vendor}"
    )


def start_django(url: str, **settings: Any) -> None:
    """Django on ``url``, with ``settings`` set over Kapstone's own, migrated to the current code."""
    os.environ["KAPSTONE_DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kapstone.settings")
    import django
    from django.conf import settings as django_settings
    from django.core.management import call_command

    django.setup()
    for name, value in settings.items():
        setattr(django_settings, name, value)
    call_command("migrate", "--no-input", verbosity=0)
