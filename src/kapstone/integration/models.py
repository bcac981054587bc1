"""An integration psychotherapy session on the calendar, linked to the dosing session before it.

The structured notes a therapist writes attach to this row; booking and cancelling are services
with their audit rows, and a cancelled session keeps its row and reason.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from kapstone.clinical.access import Modality


class IntegrationStatus(models.TextChoices):
    BOOKED = "booked", "Booked"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class IntegrationSession(models.Model):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="integration_sessions"
    )
    dosing_session = models.ForeignKey(
        "dosing.DosingSession",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="integration_sessions",
    )
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    modality = models.CharField(
        max_length=32, choices=[(m.value, m.label) for m in Modality], blank=True
    )
    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")
    room = models.ForeignKey(
        "accounts.Room", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(
        max_length=12, choices=IntegrationStatus.choices, default=IntegrationStatus.BOOKED
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    booked_at = models.DateTimeField()
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [
            models.Index(fields=["patient", "starts_at"]),
            models.Index(fields=["therapist", "starts_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="integration_session_ends_after_start",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(status=IntegrationStatus.CANCELLED, cancelled_at__isnull=False)
                    & ~models.Q(cancel_reason="")
                )
                | (
                    ~models.Q(status=IntegrationStatus.CANCELLED)
                    & models.Q(cancelled_at__isnull=True)
                ),
                name="integration_session_cancellation_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"Integration session for patient {self.patient_id} at {self.starts_at:%Y-%m-%d %H:%M}"
        )
