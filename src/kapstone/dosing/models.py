"""A dosing session on the clinic's calendar: booked, then held (or cancelled).

The chair-side record (checklist, doses, vital signs, discharge) attaches to this row; booking and
cancelling are services with their audit rows, and a cancelled session keeps its row and reason.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SessionStatus(models.TextChoices):
    BOOKED = "booked", "Booked"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class DosingSession(models.Model):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="dosing_sessions"
    )
    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")
    # What the scheduler (or a coordinator) placed: all optional, so a quick booking stays quick.
    plan = models.ForeignKey(
        "plans.TreatmentPlan",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="dosing_sessions",
    )
    route = models.CharField(max_length=32, blank=True)
    room = models.ForeignKey(
        "accounts.Room", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    nurse = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    prescriber = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(
        max_length=12, choices=SessionStatus.choices, default=SessionStatus.BOOKED
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
        indexes = [models.Index(fields=["patient", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="dosing_session_ends_after_start",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(status=SessionStatus.CANCELLED, cancelled_at__isnull=False)
                    & ~models.Q(cancel_reason="")
                )
                | (~models.Q(status=SessionStatus.CANCELLED) & models.Q(cancelled_at__isnull=True)),
                name="dosing_session_cancellation_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"Dosing session for patient {self.patient_id} at {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def is_cancelled(self) -> bool:
        return self.status == SessionStatus.CANCELLED
