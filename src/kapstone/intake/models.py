"""The intake's versions, the eligibility reviews screened from them and their sign-offs.

Every table is append-only (database triggers refuse UPDATE and DELETE). Saving an intake section
adds a version; the latest is the intake in force. Screening adds a review that supersedes the one
before it; signing, overriding and co-signing add rows, so a signed decision can never be edited,
only replaced by screening again.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models

from kapstone.clinical.eligibility import Decision
from kapstone.clinical.eligibility.rules import RuleKind
from kapstone.intake.sections import SECTIONS_BY_KEY
from kapstone.kernel.append_only import AppendOnly
from kapstone.kernel.append_only import AppendOnlyError as AppendOnlyError  # what save() raises

DECISION_CHOICES = [
    (Decision.ELIGIBLE.value, "Eligible"),
    (Decision.ELIGIBLE_WITH_PRECAUTIONS.value, "Eligible with precautions"),
    (Decision.SPECIALIST_PROTOCOL.value, "Specialist protocol"),
    (Decision.NOT_ELIGIBLE.value, "Not eligible"),
    (Decision.URGENT_SAFETY_REVIEW.value, "Urgent safety review"),
]
DECISION_LABELS = dict(DECISION_CHOICES)


def decision_label(value: str) -> str:
    return DECISION_LABELS.get(value, value)


class IntakeVersion(AppendOnly):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="intake_versions"
    )
    # The eligibility facts format (docs/eligibility-facts.md); partial while sections are missing.
    facts = models.JSONField()
    # kapstone.clinical.modality_matching.PresentationProfile as JSON; {} until that section is saved.
    presentation = models.JSONField(default=dict)
    sections_done = models.JSONField(default=list)
    section_saved = models.CharField(max_length=20)
    complete = models.BooleanField()
    # What stops the facts from being screened (missing sections), as the core reports them.
    problems = models.JSONField(default=list)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    saved_at = models.DateTimeField()

    class Meta:
        ordering = ["-pk"]
        indexes = [models.Index(fields=["patient", "-id"])]

    def __str__(self) -> str:
        return f"Intake version {self.pk} for patient {self.patient_id}"

    @property
    def section_title(self) -> str:
        found = SECTIONS_BY_KEY.get(self.section_saved)
        return found.title if found else self.section_saved


class EligibilityReview(AppendOnly):
    """One screening of an intake version by the core's rules, with everything it found."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="eligibility_reviews"
    )
    intake = models.ForeignKey(IntakeVersion, on_delete=models.PROTECT, related_name="reviews")
    # The facts actually screened: the intake's, with the latest questionnaire results merged in.
    facts = models.JSONField()
    questionnaire_sources = models.JSONField(default=list)
    screened_decision = models.CharField(max_length=30, choices=DECISION_CHOICES)
    findings = models.JSONField()
    derived = models.JSONField()
    assessed_on = models.DateField()
    rule_set_version = models.CharField(max_length=60)
    policy_version = models.CharField(max_length=60)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    screened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    screened_at = models.DateTimeField()

    class Meta:
        ordering = ["-pk"]
        indexes = [models.Index(fields=["patient", "-id"])]

    def __str__(self) -> str:
        return f"Eligibility review {self.pk} for patient {self.patient_id}"

    @property
    def screened_decision_label(self) -> str:
        return decision_label(self.screened_decision)

    # The sign-off state, read from the rows that record it.

    @property
    def signature(self) -> EligibilitySignature | None:
        try:
            return self.eligibility_signature
        except EligibilitySignature.DoesNotExist:
            return None

    @property
    def cosignature(self) -> EligibilityCosignature | None:
        signature = self.signature
        if signature is None:
            return None
        try:
            return signature.cosignature
        except EligibilityCosignature.DoesNotExist:
            return None

    @property
    def fully_signed(self) -> bool:
        signature = self.signature
        if signature is None:
            return False
        if not signature.needs_cosign:
            return True
        cosignature = self.cosignature
        return cosignature is not None and cosignature.approved

    @property
    def decision(self) -> str | None:
        """The final decision the prescriber signed, once it counts as signed (None before)."""
        signature = self.signature
        return signature.final_decision if signature and self.fully_signed else None

    @property
    def signed_at(self) -> dt.datetime | None:
        """When the decision came to count as signed: the co-signature's time when one was needed."""
        if not self.fully_signed:
            return None
        signature = self.signature
        assert signature is not None
        cosignature = self.cosignature
        return cosignature.cosigned_at if cosignature else signature.signed_at

    @property
    def decision_label(self) -> str:
        return decision_label(self.decision) if self.decision else ""


class EligibilitySignature(AppendOnly):
    review = models.OneToOneField(
        EligibilityReview, on_delete=models.PROTECT, related_name="eligibility_signature"
    )
    final_decision = models.CharField(max_length=30, choices=DECISION_CHOICES)
    note = models.TextField(blank=True)
    # An absolute finding was overridden: the decision counts only once the director co-signs.
    needs_cosign = models.BooleanField()
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Signature of eligibility review {self.review_id}"

    @property
    def final_decision_label(self) -> str:
        return decision_label(self.final_decision)


class FindingOverride(AppendOnly):
    """The prescriber's written reason for proceeding despite one finding."""

    signature = models.ForeignKey(
        EligibilitySignature, on_delete=models.PROTECT, related_name="overrides"
    )
    rule_id = models.CharField(max_length=20)
    kind = models.CharField(
        max_length=15,
        choices=[(RuleKind.ABSOLUTE.value, "Absolute"), (RuleKind.RELATIVE.value, "Relative")],
    )
    reason = models.TextField()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["signature", "rule_id"], name="one_override_per_finding"
            ),
            models.CheckConstraint(condition=~models.Q(reason=""), name="override_has_reason"),
        ]

    def __str__(self) -> str:
        return f"Override of {self.rule_id} on signature {self.signature_id}"


class EligibilityCosignature(AppendOnly):
    """The medical director's second sign-off on overriding an absolute finding, or its refusal."""

    signature = models.OneToOneField(
        EligibilitySignature, on_delete=models.PROTECT, related_name="cosignature"
    )
    approved = models.BooleanField()
    reason = models.TextField()
    cosigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    cosigned_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~models.Q(reason=""), name="cosignature_has_reason"),
        ]

    def __str__(self) -> str:
        return f"Co-signature of signature {self.signature_id}"
