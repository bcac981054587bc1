"""A patient's insurance coverage and the esketamine prior authorisations under it (issue 21).

The payer is the billing app's (``billing.Payer``). Units used are not stored: they are counted
from the signed esketamine chair-side records each time (``coverage.selectors``), so they cannot
drift from what was given. An authorisation recorded by mistake is withdrawn (kept, with who and
why), never deleted.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from kapstone.clinical.billing.prior_auth import Benefit

STAFF = settings.AUTH_USER_MODEL
BENEFIT_CHOICES = [
    (Benefit.MEDICAL.value, "Medical benefit"),
    (Benefit.PHARMACY.value, "Pharmacy benefit"),
]


class Coverage(models.Model):
    """One insurance plan a patient holds with a payer."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="coverages"
    )
    payer = models.ForeignKey("billing.Payer", on_delete=models.PROTECT, related_name="+")
    member_id = models.CharField("member ID", max_length=60)
    group_number = models.CharField(max_length=60, blank=True)
    benefit = models.CharField(max_length=16, choices=BENEFIT_CHOICES)
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(STAFF, on_delete=models.PROTECT, related_name="+")
    ended_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["patient", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "payer", "member_id", "benefit"], name="coverage_once"
            )
        ]

    def __str__(self) -> str:
        return f"Coverage of patient {self.patient_id} with payer {self.payer_id}"


class PriorAuthorisation(models.Model):
    """A payer's approval of esketamine sessions: how many, from when to when (inclusive)."""

    coverage = models.ForeignKey(Coverage, on_delete=models.PROTECT, related_name="authorisations")
    number = models.CharField(max_length=60)
    approved_units = models.PositiveSmallIntegerField()
    starts_on = models.DateField()
    ends_on = models.DateField()
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(STAFF, on_delete=models.PROTECT, related_name="+")
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        STAFF, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["starts_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["coverage", "number"], name="authorisation_once"),
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="authorisation_ends_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(approved_units__gte=1), name="authorisation_approves_a_unit"
            ),
        ]

    def __str__(self) -> str:
        return f"Prior authorisation {self.number}"
