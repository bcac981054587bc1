"""A patient's arrival for a dosing session, recorded at the front desk: the day board's "checked
in". One row per session, written once (checking in twice is refused, not overwritten)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Arrival(models.Model):
    session = models.OneToOneField(
        "dosing.DosingSession", on_delete=models.PROTECT, related_name="arrival"
    )
    arrived_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["arrived_at", "pk"]

    def __str__(self) -> str:
        return f"Arrival for dosing session {self.session_id} at {self.arrived_at:%Y-%m-%d %H:%M}"
