"""Suicide-risk alerts and the dosing holds a high C-SSRS result places.

Every row here is written once: an alert is closed by adding its acknowledgement, escalated by
adding an escalation, and a hold is released by adding a prescriber's review. Nothing is updated in
place, so the record shows who knew what, and when. Every model here is
:class:`~kapstone.kernel.append_only.AppendOnly`: it refuses to change or delete a stored row, and
so do the database's triggers.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from kapstone.clinical.suicide_risk import AlertAction
from kapstone.kernel.append_only import AppendOnly


class SafetyAlert(AppendOnly):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="safety_alerts"
    )
    raised_at = models.DateTimeField()
    reason = models.CharField(max_length=300)
    # The result that raised it; other sources (a chair-side finding) may come without one.
    response = models.ForeignKey(
        "assessments.QuestionnaireResponse",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="safety_alerts",
    )
    policy_version = models.CharField(max_length=40)
    escalate_after_minutes = models.PositiveIntegerField()

    class Meta:
        ordering = ["-raised_at", "-pk"]

    def __str__(self) -> str:
        return f"Suicide-risk alert {self.pk} for patient {self.patient_id}"

    @property
    def is_open(self) -> bool:
        return not hasattr(self, "acknowledgement")


class AlertAcknowledgement(AppendOnly):
    alert = models.OneToOneField(
        SafetyAlert, on_delete=models.PROTECT, related_name="acknowledgement"
    )
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    actions = models.JSONField(help_text="AlertAction values: what was done")
    note = models.TextField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~models.Q(note=""), name="acknowledgement_has_note")
        ]

    def __str__(self) -> str:
        return f"Acknowledgement of alert {self.alert_id}"

    def action_labels(self) -> list[str]:
        return [AlertAction(a).label for a in self.actions]


class AlertEscalation(AppendOnly):
    alert = models.OneToOneField(SafetyAlert, on_delete=models.PROTECT, related_name="escalation")
    at = models.DateTimeField()
    policy_version = models.CharField(max_length=40)

    def __str__(self) -> str:
        return f"Escalation of alert {self.alert_id}"


class NoticeReason(models.TextChoices):
    RAISED = "raised", "Raised to the care team"
    ESCALATED = "escalated", "Escalated to the medical director"


class AlertNotice(AppendOnly):
    """Who was told of an alert, and why: the prescriber and therapist, later the director."""

    alert = models.ForeignKey(SafetyAlert, on_delete=models.PROTECT, related_name="notices")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="alert_notices"
    )
    reason = models.CharField(max_length=10, choices=NoticeReason.choices)
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["alert", "recipient", "reason"], name="one_notice_per_reason"
            )
        ]

    def __str__(self) -> str:
        return f"Notice of alert {self.alert_id} to {self.recipient_id}"


class DosingHold(AppendOnly):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="dosing_holds"
    )
    alert = models.OneToOneField(SafetyAlert, on_delete=models.PROTECT, related_name="hold")
    placed_at = models.DateTimeField()
    reason = models.CharField(max_length=300)
    policy_version = models.CharField(max_length=40)

    class Meta:
        ordering = ["-placed_at", "-pk"]

    def __str__(self) -> str:
        return f"Dosing hold {self.pk} for patient {self.patient_id}"

    @property
    def is_active(self) -> bool:
        return not hasattr(self, "review")


class HoldReview(AppendOnly):
    """A prescriber's documented review that lets dosing be booked again."""

    hold = models.OneToOneField(DosingHold, on_delete=models.PROTECT, related_name="review")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    assessment = models.TextField(help_text="The prescriber's review and why dosing may go on")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(assessment=""), name="hold_review_has_assessment"
            )
        ]

    def __str__(self) -> str:
        return f"Review of hold {self.hold_id}"
