"""`kapstone db_worker`: django_tasks_db's worker, with a heartbeat that readiness checks.

Same options and behaviour as the library's command (this app comes before it in INSTALLED_APPS,
so this one answers to the name).
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from django.db import DatabaseError
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands.db_worker import Command as LibraryWorkerCommand

from kapstone.ops import heartbeat


class Command(LibraryWorkerCommand):
    help = "Run the background task worker (with a heartbeat for /healthz/ready)."

    def handle(self, *args: Any, **options: Any) -> None:
        # Under --reload the parent only restarts the child; only the process running tasks beats.
        reloading = options["reload"] and not options["batch"]
        if reloading and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true":
            return super().handle(*args, **options)
        pulse = heartbeat.Heartbeat(options["worker_id"])
        pulse.start()
        try:
            return super().handle(*args, **options)
        finally:
            pulse.halt()
            pulse.join(timeout=5)
            # A worker stopping because the database went away cannot clear its row; it goes stale.
            with contextlib.suppress(DatabaseError):
                heartbeat.stop(worker_id=options["worker_id"])
