"""Every message sent to a patient outside the app, with its outcome: no health details in any."""

from __future__ import annotations

import datetime as dt

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
    # Not before this instant: the end of the patient's quiet hours, or the next retry.
    not_before = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "created_at"], name="notification_due")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.channel} ({self.status})"


# Which notifications the patient may turn off, and the preference that says so: invitations and
# sign-in links always go (by e-mail, at once), or the patient could not sign in.
class Reminder(models.TextChoices):
    SESSIONS = "sessions", "Session reminders"
    QUESTIONNAIRES = "questionnaires", "Questionnaires due"
    MESSAGES = "messages", "New messages"


IMMEDIATE_KINDS = frozenset({Kind.INVITATION, Kind.SIGN_IN_LINK})
REMINDER_OF_KIND = {
    Kind.SESSION_DAY_BEFORE: Reminder.SESSIONS,
    Kind.SESSION_MORNING: Reminder.SESSIONS,
    Kind.QUESTIONNAIRE_DUE: Reminder.QUESTIONNAIRES,
    Kind.NEW_MESSAGE: Reminder.MESSAGES,
}


class Preferences(models.Model):
    """How a patient wants to hear from the clinic: one row per account, made with these defaults
    the first time anything asks."""

    account = models.OneToOneField(
        "companion.PatientAccount", on_delete=models.CASCADE, related_name="notify_preferences"
    )
    by_email = models.BooleanField(default=True)
    by_sms = models.BooleanField(default=False)
    # International format, as the patients app stores a phone number (+1 207-555-0143).
    mobile = models.CharField(max_length=40, blank=True)
    # In the patient's site's time zone; equal start and end mean no quiet hours.
    quiet_start = models.TimeField(default=dt.time(21, 0))
    quiet_end = models.TimeField(default=dt.time(8, 0))
    sessions = models.BooleanField(default=True)
    questionnaires = models.BooleanField(default=True)
    messages = models.BooleanField(default=True)
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "notification preferences"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(by_sms=False) | ~models.Q(mobile=""),
                name="text_messages_need_a_mobile",
            )
        ]

    def __str__(self) -> str:
        return f"Notification preferences of account {self.account_id}"

    def wants(self, kind: str) -> bool:
        reminder = REMINDER_OF_KIND.get(Kind(kind))
        return reminder is None or bool(getattr(self, reminder.value))


class ReminderSent(models.Model):
    """One row per reminder ever sent: its key (account, kind, object, day) is unique, so a second
    run of the reminders, or two at once, never sends the same reminder twice."""

    key = models.CharField(max_length=120, unique=True)
    account = models.ForeignKey(
        "companion.PatientAccount", on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.key
