from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from kapstone.clinical.access import Modality, Role


class Site(models.Model):
    """One of the clinic's locations: rooms, staff and stock belong to a site."""

    name = models.CharField(max_length=120, unique=True)
    address = models.CharField(max_length=250, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    time_zone = models.CharField(max_length=64, default="America/New_York")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class StaffUser(AbstractUser):
    """A member of staff. Every account has exactly one role; MFA is required for all of them."""

    role = models.CharField(max_length=32, choices=[(r.value, r.label) for r in Role])
    credentials = models.CharField(
        max_length=40, blank=True, help_text="Professional credentials, e.g. MD, NP, RN, LCSW"
    )
    sites = models.ManyToManyField(Site, related_name="staff", blank=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        verbose_name = "staff member"

    @property
    def staff_role(self) -> Role:
        return Role(self.role)

    @property
    def display_name(self) -> str:
        name = self.get_full_name() or self.username
        return f"{name}, {self.credentials}" if self.credentials else name

    def modalities(self) -> frozenset[Modality]:
        return frozenset(Modality(c.modality) for c in self.modality_credentials.all())

    def __str__(self) -> str:
        return self.display_name


class ModalityCredential(models.Model):
    """A therapist's credential in an integration modality (EMDR, ART, IFS ...)."""

    therapist = models.ForeignKey(
        StaffUser, on_delete=models.CASCADE, related_name="modality_credentials"
    )
    modality = models.CharField(max_length=32, choices=[(m.value, m.label) for m in Modality])
    certified_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["therapist", "modality"], name="one_credential_each")
        ]

    def __str__(self) -> str:
        return f"{self.therapist} – {Modality(self.modality).label}"
