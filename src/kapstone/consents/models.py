"""Electronic consent: the exact consent text a patient reads, by version, and what they signed.

A :class:`ConsentDocument` is one version of the clinic's consent wording, stored with the SHA-256
of its text so a signature can prove which words were on the screen. A :class:`ConsentSignature` is
one act of the patient: signing, or withdrawing consent. Both are written once
(:class:`~kapstone.kernel.append_only.AppendOnly`, with the database's triggers): a withdrawal is a
new row, never a change to the signature it withdraws.
"""

from __future__ import annotations

import hashlib

from django.db import models

from kapstone.kernel.append_only import AppendOnly
from kapstone.kernel.append_only import AppendOnlyError as AppendOnlyError  # what save() raises


def text_hash(text: str) -> str:
    """The SHA-256 of the consent text as shown (UTF-8), in hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ConsentDocument(AppendOnly):
    """One version of the consent wording. The clinic may write a newer version (clinic policy);
    a signature keeps the version and the hash it was given."""

    key = models.CharField(max_length=60)  # "treatment-plan" for the plan's consent
    version = models.CharField(max_length=40)
    language = models.CharField(max_length=8, default="en-gb")
    title = models.CharField(max_length=200)
    text = models.TextField()
    content_hash = models.CharField(max_length=64)
    # Clinical-reference keys (docs/clinical-reference.md) the wording follows, and its status.
    sources = models.JSONField(default=list)
    verification = models.CharField(max_length=20, default="unverified")
    clinic_editable = models.BooleanField(default=True)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["key", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["key", "version", "language"], name="consent_document_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.ref})"

    @property
    def ref(self) -> str:
        return f"{self.key}@{self.version}"

    @property
    def hash_prefix(self) -> str:
        return self.content_hash[:12]


class SignatureAction(models.TextChoices):
    SIGNED = "signed", "Signed"
    WITHDRAWN = "withdrawn", "Withdrawn"


class ConsentSignature(AppendOnly):
    """The patient's own act on one consent version for one plan version, as they did it: the
    name they typed, when, from where (IP address and browser), and through which account."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="consent_signatures"
    )
    plan = models.ForeignKey(
        "plans.TreatmentPlan", on_delete=models.PROTECT, related_name="consent_signatures"
    )
    document = models.ForeignKey(
        ConsentDocument, on_delete=models.PROTECT, related_name="signatures"
    )
    action = models.CharField(max_length=10, choices=SignatureAction.choices)
    text_hash = models.CharField(max_length=64)  # of the text shown, equal to the document's
    typed_name = models.CharField(max_length=200)
    read_and_understood = models.BooleanField()
    signed_at = models.DateTimeField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    account = models.ForeignKey(
        "companion.PatientAccount", on_delete=models.PROTECT, related_name="consent_signatures"
    )
    withdraws = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="withdrawn_by"
    )

    class Meta:
        ordering = ["-signed_at", "-pk"]
        indexes = [models.Index(fields=["patient", "plan", "signed_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(action__in=["signed", "withdrawn"]),
                name="consent_signature_action",
            ),
            # A withdrawal names the signature it withdraws; a signature names none.
            models.CheckConstraint(
                condition=(
                    models.Q(action="signed", withdraws__isnull=True)
                    | models.Q(action="withdrawn", withdraws__isnull=False)
                ),
                name="consent_withdrawal_names_its_signature",
            ),
        ]

    def __str__(self) -> str:
        return f"Consent {self.action} by patient {self.patient_id} on plan {self.plan_id}"

    @property
    def hash_prefix(self) -> str:
        return self.text_hash[:12]
