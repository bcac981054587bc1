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
    # Set on accounts whose password someone else chose (kapstone bootstrap's one-time password):
    # every page sends the user to change it until they have.
    must_change_password = models.BooleanField(default=False)

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


class Room(models.Model):
    """A treatment room or chair at a site, with the routes it is equipped for.

    IV infusions need a pump and monitoring; esketamine needs the REMS-certified observation area;
    the scheduler books a dosing session only into a room whose routes include the plan's route.
    """

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="rooms")
    name = models.CharField(max_length=80)
    routes = models.JSONField(default=list, help_text="Route values this room is equipped for")
    turnover_minutes = models.PositiveSmallIntegerField(
        default=15, help_text="Cleaning and reset time between two patients"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["site__name", "name"]
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="room_name_per_site")]

    def __str__(self) -> str:
        return f"{self.name} ({self.site})"
