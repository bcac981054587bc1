"""The task worker's heartbeat: a thread in the worker process that touches its row.

django_tasks_db's worker loop has no hooks and records workers only on the tasks they claim, so an
idle worker leaves no trace. A thread beside the loop keeps beating while a long task (a scheduling
solve, a cohort rebuild) holds the loop, which a beat from inside the loop would not; a worker that
dies takes its thread with it and its row goes stale.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from kapstone.ops.models import WorkerHeartbeat

logger = logging.getLogger(__name__)

# Rows of workers gone this long are removed by the others' beats.
FORGET_AFTER = dt.timedelta(days=1)


def beat(*, worker_id: str, started_at: dt.datetime) -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "hostname": socket.gethostname()[:255],
            "pid": os.getpid(),
            "started_at": started_at,
            "beat_at": now,
        },
    )
    WorkerHeartbeat.objects.filter(beat_at__lt=now - FORGET_AFTER).delete()


def stop(*, worker_id: str) -> None:
    """A worker that stops cleanly says so at once instead of waiting to go stale."""
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


def latest_beat() -> dt.datetime | None:
    return WorkerHeartbeat.objects.order_by("-beat_at").values_list("beat_at", flat=True).first()


class Heartbeat(threading.Thread):
    """Beats once at once (in the caller's thread), then every ``WORKER_HEARTBEAT_SECONDS``."""

    def __init__(self, worker_id: str):
        super().__init__(name="kapstone-heartbeat", daemon=True)
        self.worker_id = worker_id
        self.started_at = timezone.now()
        self._halted = threading.Event()

    def start(self) -> None:
        # The first beat is written before the worker takes a task, so readiness turns green as
        # soon as it can; if the database is away the worker stops here and is restarted.
        beat(worker_id=self.worker_id, started_at=self.started_at)
        super().start()

    def run(self) -> None:
        while not self._halted.wait(settings.WORKER_HEARTBEAT_SECONDS):
            try:
                close_old_connections()
                beat(worker_id=self.worker_id, started_at=self.started_at)
            except DatabaseError:
                # The database is away: readiness will say so; keep trying.
                logger.warning("worker heartbeat could not be written", exc_info=True)
        connection.close()

    def halt(self) -> None:
        self._halted.set()
