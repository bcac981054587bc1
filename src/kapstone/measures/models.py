"""A patient's measurement care plan (which measures are due when) and the reminders sent for it.

Both tables are append-only. Changing the plan adds a row that supersedes the current one, so the
history of plans stays on the chart; the latest row is the plan in force. What is due is never
stored: it is computed from the current row, the dosing sessions and the completed measures.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from kapstone.kernel.append_only import AppendOnly
from kapstone.kernel.append_only import AppendOnlyError as AppendOnlyError  # what save() raises
from kapstone.measures.plans import PLAN_CHOICES, plan_label


class MeasurementCarePlan(AppendOnly):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="measurement_care_plans"
    )
    plan = models.CharField(max_length=40, choices=PLAN_CHOICES)
    plan_version = models.CharField(max_length=40)
    policy_version = models.CharField(max_length=40)
    intake_at = models.DateTimeField()
    end_of_course = models.DateTimeField(null=True, blank=True)
    # One row supersedes at most one other, so the history is a single line even under races.
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField()

    class Meta:
        ordering = ["-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_of_course__isnull=True)
                | models.Q(end_of_course__gte=models.F("intake_at")),
                name="care_plan_course_ends_after_intake",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.plan_label} plan for patient {self.patient_id} from {self.started_at:%Y-%m-%d}"
        )

    @property
    def plan_label(self) -> str:
        return plan_label(self.plan)


class MeasureReminder(AppendOnly):
    """One e-mailed questionnaire set for the measures that had come due; ``occurrences`` names
    each one (instrument, occasion, target) so that no occurrence is reminded twice."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="measure_reminders"
    )
    care_plan = models.ForeignKey(
        MeasurementCarePlan, on_delete=models.PROTECT, related_name="reminders"
    )
    instruments = models.JSONField()
    occurrences = models.JSONField()
    sent_at = models.DateTimeField()
    questionnaire_set = models.OneToOneField(
        "assessments.QuestionnaireSet", on_delete=models.PROTECT, related_name="measure_reminder"
    )

    class Meta:
        ordering = ["-sent_at", "-pk"]
        indexes = [models.Index(fields=["patient", "sent_at"])]

    def __str__(self) -> str:
        return f"Measure reminder for patient {self.patient_id} sent {self.sent_at:%Y-%m-%d %H:%M}"
