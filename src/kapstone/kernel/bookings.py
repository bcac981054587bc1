"""What every booked session holds, whatever the session is for (a dose, an integration talk):
when it is, who booked it and when, and, once cancelled, who cancelled it, when and why. Kept here
so the two kinds of session cannot drift apart in what a booking or a cancellation records."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class BookingStatus(models.TextChoices):
    BOOKED = "booked", "Booked"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class BookedSession(models.Model):
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(
        max_length=12, choices=BookingStatus.choices, default=BookingStatus.BOOKED
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
        abstract = True


def booking_constraints(table: str) -> list[models.BaseConstraint]:
    """The database's own guards on a booked session (named after its ``table``): it ends after it
    starts, and it is cancelled exactly when it carries the time and the reason of cancelling."""
    return [
        models.CheckConstraint(
            condition=models.Q(ends_at__gt=models.F("starts_at")),
            name=f"{table}_ends_after_start",
        ),
        models.CheckConstraint(
            condition=(
                models.Q(status=BookingStatus.CANCELLED, cancelled_at__isnull=False)
                & ~models.Q(cancel_reason="")
            )
            | (~models.Q(status=BookingStatus.CANCELLED) & models.Q(cancelled_at__isnull=True)),
            name=f"{table}_cancellation_has_reason",
        ),
    ]
