"""Secure messages between a patient and their care team.

Everything here is written once (append-only): a message is never edited or deleted, a read receipt
is the first reading and stays, and an urgent message keeps the alert it raised. A correction is a
new message.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from kapstone.kernel.append_only import AppendOnly


class Thread(AppendOnly):
    """A conversation the patient started with their care team."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="message_threads"
    )
    subject = models.CharField(max_length=120, blank=True)
    started_at = models.DateTimeField()
    started_by = models.ForeignKey(
        "companion.PatientAccount", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["patient", "started_at"], name="thread_patient_started")]

    def __str__(self) -> str:
        return f"Message thread {self.pk} (patient {self.patient_id})"


class Message(AppendOnly):
    """One message: from the patient (``account``) or from a member of staff (``author``)."""

    thread = models.ForeignKey(Thread, on_delete=models.PROTECT, related_name="messages")
    # The thread's patient again, so the day board finds a staff member's patients' messages
    # without a join through the thread.
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(
        "companion.PatientAccount",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    body = models.TextField()
    sent_at = models.DateTimeField()
    # The urgent screening of a patient's message (kapstone.clinical.message_screening): the
    # verdict, the lists that matched (names only) and the policy version; empty for staff.
    urgent = models.BooleanField(default=False)
    screened_lists = models.CharField(max_length=200, blank=True)
    screening_policy_version = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["sent_at", "pk"]
        indexes = [
            models.Index(fields=["thread", "sent_at"], name="message_thread_sent"),
            models.Index(fields=["patient", "sent_at"], name="message_patient_sent"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(account__isnull=False) & models.Q(author__isnull=True))
                | (models.Q(account__isnull=True) & models.Q(author__isnull=False)),
                name="message_from_patient_or_staff",
            ),
            models.CheckConstraint(condition=~models.Q(body=""), name="message_has_body"),
            models.CheckConstraint(
                condition=models.Q(urgent=False) | models.Q(account__isnull=False),
                name="only_patient_messages_are_screened",
            ),
        ]

    def __str__(self) -> str:
        return f"Message {self.pk} (thread {self.thread_id})"

    @property
    def from_patient(self) -> bool:
        return self.account_id is not None


class ReadReceipt(AppendOnly):
    """The first reading of a message by the other side: the patient reading a staff message
    (``reader`` empty), or the first member of staff reading a patient's message."""

    message = models.OneToOneField(Message, on_delete=models.PROTECT, related_name="receipt")
    read_at = models.DateTimeField()
    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"Read receipt of message {self.message_id}"


class UrgentMessageAlert(AppendOnly):
    """The suicide-risk alert an urgent message raised (written in the message's transaction)."""

    message = models.OneToOneField(Message, on_delete=models.PROTECT, related_name="urgent_alert")
    alert = models.OneToOneField(
        "safety.SafetyAlert", on_delete=models.PROTECT, related_name="urgent_message"
    )

    def __str__(self) -> str:
        return f"Alert {self.alert_id} raised by message {self.message_id}"
