"""Questionnaire sets sent to a patient and their responses, one per instrument.

The link's token is never stored: only its SHA-256 hash, so a database copy cannot open anyone's
questionnaires. A submitted response keeps the item answers, the definition's version, the core's
score and the scoring-policy version that produced it; services never change it afterwards.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models

from kapstone.assessments.flow import CLINICIAN_RATED


class QuestionnaireSet(models.Model):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="questionnaire_sets"
    )
    instruments = models.JSONField(help_text="Instrument names in the order the patient sees them")
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    submitted_at = models.DateTimeField(null=True, blank=True)
    kiosk = models.BooleanField(default=False)
    site = models.ForeignKey(
        "accounts.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-sent_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("sent_at")),
                name="questionnaire_set_expires_after_sending",
            ),
            models.CheckConstraint(
                condition=models.Q(kiosk=False) | models.Q(site__isnull=False),
                name="questionnaire_set_kiosk_has_site",
            ),
        ]

    def __str__(self) -> str:
        return f"Questionnaires for patient {self.patient_id} sent {self.sent_at:%Y-%m-%d}"

    def is_open(self, now: dt.datetime) -> bool:
        return self.submitted_at is None and now < self.expires_at

    @property
    def is_rating(self) -> bool:
        """A clinician's rating at interview: ``sent_at`` is the interview, ``sent_by`` the rater."""
        return bool(self.instruments) and all(name in CLINICIAN_RATED for name in self.instruments)


class ResponseStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    SUBMITTED = "submitted", "Submitted"


class QuestionnaireResponse(models.Model):
    questionnaire_set = models.ForeignKey(
        QuestionnaireSet, on_delete=models.PROTECT, related_name="responses"
    )
    position = models.PositiveSmallIntegerField()
    instrument = models.CharField(max_length=20)
    instrument_version = models.CharField(max_length=20)
    status = models.CharField(
        max_length=12, choices=ResponseStatus.choices, default=ResponseStatus.IN_PROGRESS
    )
    answers = models.JSONField(default=dict, blank=True, help_text="Item id -> answer as given")
    started_at = models.DateTimeField(null=True, blank=True)
    last_saved_at = models.DateTimeField(null=True, blank=True)
    # The time the score describes: a clinician's rating is submitted at its interview time.
    submitted_at = models.DateTimeField(null=True, blank=True)
    # The core's result, stored at submission.
    total = models.IntegerField(null=True, blank=True)
    severity = models.CharField(max_length=30, blank=True)
    subscales = models.JSONField(default=dict, blank=True)
    flags = models.JSONField(default=list, blank=True)
    policy_version = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["questionnaire_set", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire_set", "instrument"], name="one_response_per_instrument"
            ),
            # Submitted exactly when it carries a submission time and a policy version.
            models.CheckConstraint(
                condition=(
                    models.Q(
                        status=ResponseStatus.SUBMITTED,
                        submitted_at__isnull=False,
                        started_at__isnull=False,
                    )
                    & ~models.Q(policy_version="")
                )
                | models.Q(status=ResponseStatus.IN_PROGRESS, submitted_at__isnull=True),
                name="questionnaire_response_submission_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} ({self.get_status_display()})"

    @property
    def is_submitted(self) -> bool:
        return self.status == ResponseStatus.SUBMITTED
