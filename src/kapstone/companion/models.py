"""A patient's own account in the companion app: separate from staff accounts (never a
:class:`~kapstone.accounts.models.StaffUser`), so no staff permission can ever reach a patient."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Language(models.TextChoices):
    ENGLISH = "en-gb", "English"
    SPANISH = "es", "Español"


class PatientAccount(models.Model):
    """One per patient, created by an invitation from the chart."""

    patient = models.OneToOneField(
        "patients.Patient", on_delete=models.PROTECT, related_name="companion_account"
    )
    email = models.EmailField()
    # A Django password hash, empty until the patient chooses one (a one-time link signs them in
    # without it).
    password = models.CharField(max_length=200, blank=True)
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.ENGLISH)
    invited_at = models.DateTimeField()
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    activated_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["email"], name="one_companion_account_per_email")
        ]

    def __str__(self) -> str:
        return f"Companion account {self.pk} (patient {self.patient_id})"

    @property
    def audit_label(self) -> str:
        """How the audit trail names this actor: no name, no e-mail (the label is hashed into the
        chain and shown on audit pages)."""
        return f"patient-account:{self.pk}"
