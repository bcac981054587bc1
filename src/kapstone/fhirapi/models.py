"""System clients of the FHIR API, the assertions and tokens they used, and their Bulk exports.

No row here holds patient data: a client is a name, an id, its allowed scopes and its public keys;
a token is stored only as its SHA-256; an export job holds its parameters, progress and the names
and counts of the NDJSON files written under ``settings.FHIR_EXPORT_DIR``.
"""

from __future__ import annotations

import uuid

from django.db import models


class ApiClient(models.Model):
    """A system registered by the administrator for SMART Backend Services (client credentials)."""

    client_id = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=120)
    # SMART system scopes the client may ask for, space-separated (e.g. "system/Patient.rs").
    scopes = models.TextField()
    # Its public keys: a JWKS held here, or the address of one (fetched with a timeout, cached).
    jwks = models.JSONField(null=True, blank=True)
    jwks_url = models.URLField(max_length=500, blank=True)
    jwks_cache = models.JSONField(null=True, blank=True)
    jwks_fetched_at = models.DateTimeField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(jwks__isnull=False, jwks_url="")
                    | models.Q(jwks__isnull=True) & ~models.Q(jwks_url="")
                ),
                name="fhirapi_client_one_key_source",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"

    @property
    def allowed_scopes(self) -> frozenset[str]:
        return frozenset(self.scopes.split())


class UsedAssertion(models.Model):
    """A client assertion's ``jti``, kept until the assertion expires: a second use is a replay.

    The unique constraint refuses the replay even when two requests race; rows past their expiry
    may be removed (an expired assertion is refused on its ``exp`` anyway).
    """

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="+")
    jti = models.CharField(max_length=255)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "jti"], name="fhirapi_jti_once_per_client")
        ]

    def __str__(self) -> str:
        return f"Assertion {self.jti} of client {self.client_id}"


class AccessToken(models.Model):
    """An opaque bearer token, kept only as its SHA-256, with the scopes it grants."""

    token_hash = models.CharField(max_length=64, unique=True)
    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="tokens")
    scopes = models.TextField()
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"Token of {self.client_id} until {self.expires_at:%H:%M:%S}"


class ExportLevel(models.TextChoices):
    SYSTEM = "system", "System"
    PATIENT = "patient", "Patient"
    GROUP = "group", "Group"


class ExportState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETE = "complete", "Complete"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired (files removed)"


class BulkExport(models.Model):
    """One Bulk Data ``$export`` kick-off: its parameters, progress and, when done, its files."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="exports")
    level = models.CharField(max_length=8, choices=ExportLevel.choices)
    group_id = models.CharField(max_length=100, blank=True)
    types = models.JSONField(default=list)  # resource types, in the order written
    since = models.DateTimeField(null=True, blank=True)
    request_url = models.CharField(max_length=2000)
    requested_at = models.DateTimeField()
    transaction_time = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=ExportState.choices, default=ExportState.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)  # percent
    step = models.CharField(max_length=80, blank=True)
    # [{"type": "Patient", "file": "Patient.ndjson", "count": 12}, ...]
    output = models.JSONField(default=list, blank=True)
    error = models.CharField(max_length=300, blank=True)  # never patient data
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="fhirapi_export_progress_percent"
            )
        ]

    def __str__(self) -> str:
        return f"$export {self.pk} ({self.state})"
