"""Billing's tables: payers, the practice's billing numbers, fee schedules, charge lines, the
patient account ledger and claims.

What happened is written once. Fee schedule versions and their prices, charge lines and the
biller's decisions on them, account entries, claims, their lines and their status events are
:class:`~kapstone.kernel.append_only.AppendOnly` and refuse UPDATE and DELETE in the database
(migration 0002). A line's status is read from its decision (none: proposed); a finalised line is
corrected by a reversing line and a reversal entry on the account, never edited. Money is integer
cents throughout.

Payers and the billing numbers of a site or a clinician are reference data kept by hand: they change
in place (an address moves), and a claim keeps its own copy of what it was sent with.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from kapstone.kernel.append_only import AppendOnly


class Payer(models.Model):
    """An insurer (or other payer) claims are sent to; ``payer_id`` is its X12 identifier."""

    name = models.CharField(max_length=120, unique=True)
    payer_id = models.CharField("payer ID (X12)", max_length=80)
    address_line = models.CharField(max_length=120, blank=True)
    city = models.CharField(max_length=60, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=15, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BillingProvider(models.Model):
    """The practice as it bills from one site: legal name, NPI, tax ID and pay-to address."""

    site = models.OneToOneField(
        "accounts.Site", on_delete=models.PROTECT, related_name="billing_provider"
    )
    name = models.CharField(max_length=120)
    npi = models.CharField("NPI", max_length=10)
    tax_id = models.CharField("tax ID (EIN)", max_length=9)
    taxonomy_code = models.CharField(max_length=10, blank=True)
    address_line = models.CharField(max_length=120)
    city = models.CharField(max_length=60)
    state = models.CharField(max_length=2)
    postal_code = models.CharField(max_length=15)
    phone = models.CharField(max_length=20, blank=True)

    def __str__(self) -> str:
        return self.name


class ClinicianNumber(models.Model):
    """A rendering clinician's individual NPI."""

    staff = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="billing_number"
    )
    npi = models.CharField("NPI", max_length=10)

    def __str__(self) -> str:
        return f"{self.staff} {self.npi}"


class FeeSchedule(models.Model):
    """A site's prices, for one payer or (payer empty) the clinic's own self-pay prices."""

    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")
    payer = models.ForeignKey(
        Payer, on_delete=models.PROTECT, null=True, blank=True, related_name="fee_schedules"
    )
    name = models.CharField(max_length=120)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "payer"], name="one_schedule_per_site_payer"),
            models.UniqueConstraint(
                fields=["site"], condition=Q(payer__isnull=True), name="one_self_pay_schedule"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class FeeScheduleVersion(AppendOnly):
    """The prices in force from ``effective_from`` until the next version's date."""

    schedule = models.ForeignKey(FeeSchedule, on_delete=models.PROTECT, related_name="versions")
    effective_from = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["schedule", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "effective_from"], name="one_version_per_day"
            )
        ]


class FeePrice(AppendOnly):
    version = models.ForeignKey(FeeScheduleVersion, on_delete=models.PROTECT, related_name="prices")
    code = models.CharField(max_length=10)
    cents = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="one_price_per_code")
        ]


class ChargeStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    FINALISED = "finalised", "Finalised"
    VOIDED = "voided", "Voided"


class ChargeLine(AppendOnly):
    """One service line proposed from a signed encounter (or a reversal of a finalised one).

    ``code`` is empty on a "needs coding" line: the proposal could not be made, and
    ``needs_coding`` says why, for the biller.
    """

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")
    chairside_record = models.ForeignKey(
        "chairside.ChairsideRecord",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    integration_note = models.ForeignKey(
        "integration.IntegrationNote",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    code = models.CharField(max_length=10, blank=True)
    description = models.CharField(max_length=120, blank=True)
    units = models.PositiveSmallIntegerField(default=1)
    modifiers = models.JSONField(default=list)
    diagnoses = models.JSONField(default=list)  # ICD-10-CM codes the pointers index (1-based)
    diagnosis_pointers = models.JSONField(default=list)
    rendering = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    place_of_service = models.CharField(max_length=2, default="11")
    service_date = models.DateField()
    fee_cents = models.PositiveIntegerField(default=0)  # per line (all units), from the schedule
    rule = models.CharField(max_length=200, blank=True)  # the core's rule and its source key
    needs_coding = models.TextField(blank=True)
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )
    proposed_at = models.DateTimeField()
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        ordering = ["service_date", "pk"]
        indexes = [models.Index(fields=["patient", "service_date"])]

    def __str__(self) -> str:
        return f"{self.code or 'needs coding'} x{self.units} on {self.service_date}"


class ChargeDecision(AppendOnly):
    """The biller's decision on a proposed line: finalised (it goes on the account) or voided."""

    line = models.OneToOneField(ChargeLine, on_delete=models.PROTECT, related_name="decision")
    status = models.CharField(
        max_length=10,
        choices=[(ChargeStatus.FINALISED, "Finalised"), (ChargeStatus.VOIDED, "Voided")],
    )
    reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField()


class EntryKind(models.TextChoices):
    CHARGE = "charge", "Charge"
    PAYMENT = "payment", "Payment"
    ADJUSTMENT = "adjustment", "Adjustment"
    REVERSAL = "reversal", "Reversal"
    REFUND = "refund", "Refund"


class Claim(AppendOnly):
    """A claim to one payer for some of a patient's finalised lines, with what it was sent with."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="claims")
    provider = models.ForeignKey(BillingProvider, on_delete=models.PROTECT, related_name="+")
    control_number = models.CharField(max_length=20, unique=True)
    member_id = models.CharField(max_length=40)
    group_number = models.CharField(max_length=40, blank=True)
    address_line = models.CharField(max_length=120)
    city = models.CharField(max_length=60)
    state = models.CharField(max_length=2)
    postal_code = models.CharField(max_length=15)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]


class ClaimLine(AppendOnly):
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="lines")
    charge = models.ForeignKey(ChargeLine, on_delete=models.PROTECT, related_name="claim_lines")

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "charge"], name="a_line_once_per_claim")
        ]


class ClaimStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    PAID = "paid", "Paid"
    DENIED = "denied", "Denied"
    RESUBMITTED = "resubmitted", "Resubmitted"


class ClaimStatusEvent(AppendOnly):
    """What happened to a claim, recorded by hand: the latest event is its status."""

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="events")
    status = models.CharField(max_length=12, choices=ClaimStatus.choices)
    reason = models.TextField(blank=True)
    reference = models.CharField(max_length=60, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["recorded_at", "pk"]


class AccountEntry(AppendOnly):
    """One entry on a patient's account. ``cents`` is never negative: the kind says which way it
    moves the balance (the core's account functions), and a reversal names the entry it undoes."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=EntryKind.choices)
    cents = models.PositiveIntegerField()
    charge = models.ForeignKey(
        ChargeLine, on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )
    payer = models.ForeignKey(
        Payer, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    claim = models.ForeignKey(
        Claim, on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    method = models.CharField(max_length=30, blank=True)
    reference = models.CharField(max_length=60, blank=True)
    memo = models.CharField(max_length=200, blank=True)
    effective_on = models.DateField()
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    posted_at = models.DateTimeField()

    class Meta:
        ordering = ["effective_on", "pk"]
        verbose_name_plural = "account entries"
        indexes = [models.Index(fields=["patient", "effective_on"])]


class PatientDiagnoses(AppendOnly):
    """The patient's diagnoses for claims (ICD-10-CM, in order), chosen by a person from what the
    intake records; the latest version is used when a signed encounter proposes its lines."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    codes = models.JSONField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["patient", "-recorded_at", "-pk"]
        verbose_name_plural = "patient diagnoses"
