"""Every message sent to a patient outside the app, with its outcome: no health details in any."""

from __future__ import annotations

from django.db import models


class Kind(models.TextChoices):
    INVITATION = "invitation", "Invitation to the companion"
    SIGN_IN_LINK = "sign_in_link", "One-time sign-in link"
    SESSION_DAY_BEFORE = "session_day_before", "Session reminder, the day before"
    SESSION_MORNING = "session_morning", "Session reminder, the morning of"
    QUESTIONNAIRE_DUE = "questionnaire_due", "Questionnaires due"
    NEW_MESSAGE = "new_message", "New message from the care team"


class Channel(models.TextChoices):
    EMAIL = "email", "E-mail"
    SMS = "sms", "Text message"


class Status(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed, will retry"
    GAVE_UP = "gave_up", "Failed, gave up"


class Notification(models.Model):
    account = models.ForeignKey(
        "companion.PatientAccount", on_delete=models.PROTECT, related_name="notifications"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    to = models.CharField(max_length=254)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    created_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "created_at"], name="notification_due")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.channel} ({self.status})"
