from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """One row per running task worker, touched every few seconds while it lives.

    Operational data only (no patient, no audit entry): readiness reads the newest ``beat_at``.
    """

    worker_id = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.worker_id} on {self.hostname} ({self.pid})"
