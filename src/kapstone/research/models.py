"""A de-identified research export: who asked for what, how far the background task has got, and
the one download its requester may make before it expires.

The row holds no patient data: parameters (period, sites, programs), counts, the k-anonymity
summary and the file's path and sha256. The zip itself lives under ``settings.RESEARCH_EXPORT_DIR``
and is removed when it is downloaded or expires.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    READY = "ready", "Ready to download"
    DOWNLOADED = "downloaded", "Downloaded"
    EXPIRED = "expired", "Expired"
    FAILED = "failed", "Failed"


class ResearchExport(models.Model):
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    # Patients whose first contact falls in [period_start, period_end], clinic time zone.
    period_start = models.DateField()
    period_end = models.DateField()
    site_ids = models.JSONField(default=list, help_text="Home sites included; [] = every site")
    programs = models.JSONField(default=list, help_text="Program keys included; [] = all")
    suppress = models.BooleanField(
        default=False, help_text="Leave out patients in classes smaller than k"
    )
    status = models.CharField(
        max_length=12, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(default=0)  # percent
    step = models.CharField(max_length=80, blank=True)
    counts = models.JSONField(default=dict, blank=True)  # table -> rows
    k_summary = models.JSONField(default=dict, blank=True)
    policy_version = models.CharField(max_length=40, blank=True)
    file_path = models.CharField(max_length=300, blank=True)
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    downloaded_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)  # never patient data

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="research_export_period_in_order",
            ),
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="research_export_progress_percent"
            ),
        ]

    def __str__(self) -> str:
        return f"Research export {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status not in {ExportStatus.QUEUED, ExportStatus.RUNNING}

    def downloadable(self, now: dt.datetime) -> bool:
        return (
            self.status == ExportStatus.READY
            and self.expires_at is not None
            and now < self.expires_at
        )

    @property
    def file_name(self) -> str:
        return f"kapstone-research-export-{self.pk}.zip"
