"""Versions of the clinic's monitoring policy as the medical director sets it.

Each row holds only the overrides (the cited defaults live in the core), so a later release that
refines a default still reaches a clinic that never touched that value. Rows are append-only: the
newest is in force, and each chair-side decision records the version it used.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from kapstone.kernel.append_only import AppendOnly, AppendOnlyError

# The name callers have caught a refused change of a policy version by.
PolicyRowError = AppendOnlyError


class MonitoringPolicyVersion(AppendOnly):
    version = models.CharField(max_length=60, unique=True)
    overrides = models.JSONField(default=dict)
    reason = models.TextField()
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField()

    class Meta:
        ordering = ["-set_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(reason=""), name="policy_has_reason")
        ]

    def __str__(self) -> str:
        return f"Monitoring policy {self.version}"
