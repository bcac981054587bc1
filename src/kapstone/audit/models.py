"""The append-only, hash-chained audit trail.

Rows are written only by :func:`kapstone.audit.trail.record`, inside the same transaction as the change
they describe. Database triggers (migration 0002) refuse UPDATE and DELETE; each row's hash covers its
content and the previous row's hash, so ``kapstone audit verify`` finds any row altered behind the
triggers' back.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

GENESIS_HASH = "0" * 64


class AuditEntry(models.Model):
    seq = models.PositiveBigIntegerField(unique=True)
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The actor's username at the time: stays readable in the hash even if the account is renamed.
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=80, db_index=True)
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    summary = models.CharField(max_length=300, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    # The read event this entry chained from the queue (:class:`QueuedAuditEvent`), if any. Not part of
    # the hash: the queue's guard lets an event leave the queue only once an entry names it here.
    queued_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-seq"]
        indexes = [models.Index(fields=["patient", "-seq"])]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor_label}"


class AuditHead(models.Model):
    """One row: the chain's tip. Locking it serialises appends across processes."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self) -> str:
        return f"audit chain tip #{self.last_seq}"


class QueuedAuditEvent(models.Model):
    """A read event (a chart opened, a note viewed) waiting to be chained.

    Readers do not wait for the chain's lock: they append here, in their own transaction, and
    whoever holds the lock next (a reader that finds it free, any chained write, ``audit anchor``,
    ``audit drain``) moves every waiting event into the chain, in order, in one transaction: an
    event is in the queue or in the chain, never neither (a crash rolls both back) and never both
    (the queue's guard lets a row be deleted only once a chain entry names it). Triggers refuse
    UPDATE and TRUNCATE (migration 0004).
    """

    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=80)
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    summary = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"queued {self.action} by {self.actor_label}"
