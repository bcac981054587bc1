from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.clinical import plausibility as limits
from kapstone.clinical.access import Role
from kapstone.names import validate_person_name
from kapstone.patients.models import Patient
from kapstone.patients.services import DETAIL_FIELDS, NAME_FIELDS
from kapstone.web.fields import StrictNumberField

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PatientDetailsForm(forms.ModelForm):
    class Meta:
        model = Patient
        fields = list(DETAIL_FIELDS)
        widgets = {"date_of_birth": DATE}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in NAME_FIELDS:
            self.fields[name].validators.append(validate_person_name)

    def validate_unique(self) -> None:
        """The service checks MRN clashes (with a clearer message); the database has the last word."""


def _staff(*roles: Role) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=StaffUser.objects.filter(is_active=True, role__in=[r.value for r in roles]),
        required=False,
    )


class CareTeamForm(forms.Form):
    prescriber = _staff(Role.PRESCRIBER, Role.MEDICAL_DIRECTOR)
    therapist = _staff(Role.THERAPIST)
    nurse = _staff(Role.NURSE)


class MeasurementForm(forms.Form):
    measured_on = forms.DateField(widget=DATE, initial=timezone.localdate)
    weight_kg = StrictNumberField(label="Weight (kg)", fmt=limits.WEIGHT_KG)
    height_cm = StrictNumberField(
        label="Height (cm)",
        fmt=limits.HEIGHT_CM,
        required=False,
    )


class FindPatientForm(forms.Form):
    q = forms.CharField(label="Name or MRN", required=False, max_length=120)
    dob = forms.DateField(label="Date of birth", required=False, widget=DATE)
