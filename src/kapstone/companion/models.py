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
    def status(self) -> str:
        """What the chart shows: deactivated, invited (link not used yet) or active."""
        if not self.is_active:
            return "deactivated"
        return "active" if self.activated_at else "invited"

    @property
    def audit_label(self) -> str:
        """How the audit trail names this actor: no name, no e-mail (the label is hashed into the
        chain and shown on audit pages)."""
        return f"patient-account:{self.pk}"


class LinkPurpose(models.TextChoices):
    INVITATION = "invitation", "Invitation"
    SIGN_IN = "sign_in", "Sign-in link"


class SignInLink(models.Model):
    """A one-time link e-mailed to the patient: only the SHA-256 of its 256-bit token is kept, so
    the table alone signs no one in. Used once; dead after ``expires_at``."""

    account = models.ForeignKey(PatientAccount, on_delete=models.CASCADE, related_name="links")
    purpose = models.CharField(max_length=12, choices=LinkPurpose.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {self.pk} (account {self.account_id})"


class SignInAttempts(models.Model):
    """Failed sign-ins (password or code) in a row, and the lock they lead to (clinic policy:
    ``COMPANION_LOCKOUT_FAILURES`` failures lock for ``COMPANION_LOCKOUT_MINUTES``)."""

    account = models.OneToOneField(
        PatientAccount, on_delete=models.CASCADE, related_name="sign_in_attempts"
    )
    failures = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Sign-in attempts of account {self.account_id}"


class CompanionTOTPDevice(models.Model):
    """An authenticator app (RFC 6238, checked with django_otp.oath.TOTP): an optional second
    factor, confirmed once the patient types a first code from it."""

    account = models.ForeignKey(
        PatientAccount, on_delete=models.CASCADE, related_name="companion_totp_devices"
    )
    # 20 random bytes, hex: the shared secret the QR code carries.
    key = models.CharField(max_length=80)
    confirmed = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    # The last time step accepted: a code is never accepted twice.
    last_t = models.BigIntegerField(default=-1)

    def __str__(self) -> str:
        return f"Authenticator {self.pk} (account {self.account_id})"


class CompanionPasskey(models.Model):
    """A passkey (WebAuthn credential): the public key the patient's device registered."""

    account = models.ForeignKey(
        PatientAccount, on_delete=models.CASCADE, related_name="companion_passkeys"
    )
    credential_id = models.CharField(max_length=1400, unique=True)  # base64url
    public_key = models.BinaryField()
    sign_count = models.PositiveBigIntegerField(default=0)
    name = models.CharField(max_length=60)
    confirmed = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Passkey {self.pk} (account {self.account_id})"
