"""Registered monitors, the senders nobody registered, and every message a monitor sent."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class MonitorDevice(models.Model):
    """A bedside monitor or a central-station gateway, as its HL7 messages name it (MSH-3, MSH-4).

    Its readings go to the dosing session open in ``room``. MDC codes are always read; a gateway
    that sends its own codes has them mapped in ``local_codes`` (code -> vital sign name)."""

    label = models.CharField(max_length=80, unique=True)
    sending_application = models.CharField(
        max_length=180, help_text="MSH-3, as the device sends it"
    )
    sending_facility = models.CharField(
        max_length=180, blank=True, help_text="MSH-4, as the device sends it (may be empty)"
    )
    room = models.ForeignKey("accounts.Room", on_delete=models.PROTECT, related_name="monitors")
    local_codes = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    registered_at = models.DateTimeField()
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["label"]
        constraints = [
            models.UniqueConstraint(
                fields=["sending_application", "sending_facility"], name="monitor_sender_once"
            )
        ]

    def __str__(self) -> str:
        return self.label


class UnknownSender(models.Model):
    """A sender whose messages were refused (AR) because no device is registered for it: listed
    for the administrator, never silently dropped."""

    sending_application = models.CharField(max_length=180)
    sending_facility = models.CharField(max_length=180, blank=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    messages = models.PositiveIntegerField(default=0)
    last_control_id = models.CharField(max_length=199, blank=True)
    last_peer = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["-last_seen"]
        constraints = [
            models.UniqueConstraint(
                fields=["sending_application", "sending_facility"], name="unknown_sender_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.sending_application} {self.sending_facility}".strip()


class Placement(models.TextChoices):
    SESSION = "session", "In the dosing session"
    WAITING = "waiting", "Waiting: no session open in the room"
    REFUSED = "refused", "Refused"


class InboundMessage(models.Model):
    """One message from a registered device, once per control id (MSH-10): a resend is answered
    from here, never stored twice. Holds the reading it carried and where it went."""

    device = models.ForeignKey(MonitorDevice, on_delete=models.PROTECT, related_name="messages")
    control_id = models.CharField(max_length=199)
    received_at = models.DateTimeField()
    ack_code = models.CharField(max_length=2)
    reason = models.TextField(blank=True)
    placement = models.CharField(max_length=10, choices=Placement.choices)
    observed_at = models.DateTimeField(null=True, blank=True)
    systolic = models.PositiveSmallIntegerField(null=True, blank=True)
    diastolic = models.PositiveSmallIntegerField(null=True, blank=True)
    mean_arterial = models.PositiveSmallIntegerField(null=True, blank=True)
    heart_rate = models.PositiveSmallIntegerField(null=True, blank=True)
    spo2 = models.PositiveSmallIntegerField(null=True, blank=True)
    respiratory_rate = models.PositiveSmallIntegerField(null=True, blank=True)
    record = models.ForeignKey(
        "chairside.ChairsideRecord",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Set when the reading raised an alert: the benchmark measures frame-to-alert from it.
    alert_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["device", "control_id"], name="message_once_per_device")
        ]
        indexes = [models.Index(fields=["placement", "-received_at"], name="monitor_msg_placement")]

    def __str__(self) -> str:
        return f"{self.device_id}:{self.control_id}"
