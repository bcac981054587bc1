from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from kapstone.clinical.plausibility import HEIGHT_RANGE_CM, WEIGHT_RANGE_KG


class SexAtBirth(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    INTERSEX = "intersex", "Intersex"
    UNKNOWN = "unknown", "Not recorded"


class ReferralSource(models.TextChoices):
    SELF = "self", "Self-referral"
    PSYCHIATRIST = "psychiatrist", "Psychiatrist"
    PRIMARY_CARE = "primary_care", "Primary care physician"
    THERAPIST = "therapist", "Therapist / counsellor"
    OTHER_CLINIC = "other_clinic", "Another ketamine clinic"
    OTHER = "other", "Other"


class Patient(models.Model):
    mrn = models.CharField("MRN", max_length=20, unique=True)
    given_name = models.CharField(max_length=80)
    family_name = models.CharField(max_length=80)
    preferred_name = models.CharField(max_length=80, blank=True)
    date_of_birth = models.DateField()
    sex_at_birth = models.CharField(max_length=10, choices=SexAtBirth.choices)
    gender_identity = models.CharField(max_length=60, blank=True)
    pronouns = models.CharField(max_length=30, blank=True)

    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    address = models.CharField(max_length=250, blank=True)

    emergency_contact_name = models.CharField(max_length=120, blank=True)
    emergency_contact_relationship = models.CharField(max_length=60, blank=True)
    emergency_contact_phone = models.CharField(max_length=40, blank=True)

    referral_source = models.CharField(max_length=20, choices=ReferralSource.choices)
    referrer_name = models.CharField(max_length=120, blank=True)

    home_site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")
    prescriber = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    nurse = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    registered_at = models.DateTimeField()
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["family_name", "given_name"]
        indexes = [
            models.Index(Lower("family_name"), Lower("given_name"), name="patient_name_idx"),
            models.Index(fields=["date_of_birth"]),
            # The patient list's order (Meta.ordering): its first page without sorting them all.
            models.Index(fields=["family_name", "given_name"], name="patient_list_order"),
        ]

    def __str__(self) -> str:
        return f"{self.family_name}, {self.given_name} ({self.mrn})"

    @property
    def display_name(self) -> str:
        shown = self.preferred_name or self.given_name
        return f"{shown} {self.family_name}"

    def age_on(self, day: dt.date) -> int:
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    def care_team_ids(self) -> frozenset[int]:
        return frozenset(
            pk for pk in (self.prescriber_id, self.therapist_id, self.nurse_id) if pk is not None
        )


class BodyMeasurement(models.Model):
    """A dated weight (and height, when measured). Dose calculations use the latest weight."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="measurements")
    measured_on = models.DateField()
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1)
    height_cm = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-measured_on", "-recorded_at"]
        constraints = [
            models.CheckConstraint(
                # The core's plausible weight (§3) and height; changing them in the core makes a
                # migration (and these names, which spell the values, change with it).
                condition=models.Q(
                    weight_kg__gte=WEIGHT_RANGE_KG.low, weight_kg__lte=WEIGHT_RANGE_KG.high
                ),
                name="weight_within_30_to_300_kg",
            ),
            models.CheckConstraint(
                condition=models.Q(height_cm__isnull=True)
                | models.Q(height_cm__gte=HEIGHT_RANGE_CM.low, height_cm__lte=HEIGHT_RANGE_CM.high),
                name="height_within_100_to_250_cm",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.weight_kg} kg on {self.measured_on:%Y-%m-%d}"

    @property
    def bmi(self) -> Decimal | None:
        if not self.height_cm:
            return None
        metres = Decimal(self.height_cm) / 100
        return (Decimal(self.weight_kg) / (metres * metres)).quantize(Decimal("0.1"))
