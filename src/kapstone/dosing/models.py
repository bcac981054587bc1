"""A dosing session on the clinic's calendar: booked, then held (or cancelled).

The chair-side record (checklist, doses, vital signs, discharge) attaches to this row; booking and
cancelling are services with their audit rows, and a cancelled session keeps its row and reason.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from kapstone.kernel.bookings import BookedSession, BookingStatus, booking_constraints

SessionStatus = BookingStatus  # one life cycle for every booked session


class DosingSession(BookedSession):
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

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [
            models.Index(fields=["patient", "starts_at"]),
            # The day board and tomorrow's list: a site's sessions of one day.
            models.Index(fields=["site", "starts_at"], name="dosing_session_site_day"),
        ]
        constraints = booking_constraints("dosing_session")

    def __str__(self) -> str:
        return f"Dosing session for patient {self.patient_id} at {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def is_cancelled(self) -> bool:
        return self.status == SessionStatus.CANCELLED
