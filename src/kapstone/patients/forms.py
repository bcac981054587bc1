from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.clinical import plausibility as limits
from kapstone.clinical.access import Role
from kapstone.names import validate_person_name
from kapstone.patients.models import Patient
from kapstone.patients.services import DETAIL_FIELDS, MAX_REASON_LENGTH, NAME_FIELDS, next_mrn
from kapstone.web.fields import StrictNumberField

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

# Said the way the front desk would say it, instead of Django's "This field is required."
REQUIRED = {
    "given_name": "Enter the patient's given (first) name.",
    "family_name": "Enter the patient's family name.",
    "date_of_birth": "Enter the date of birth.",
    "sex_at_birth": "Choose the sex at birth (“Not recorded” if it is not known).",
    "referral_source": "Choose how the patient was referred.",
    "home_site": "Choose the site where the patient will be seen.",
}


class PatientDetailsForm(forms.ModelForm[Patient]):
    class Meta:
        model = Patient
        fields = list(DETAIL_FIELDS)
        widgets = {"date_of_birth": DATE}

    def __init__(self, *args: Any, assign_mrn: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in NAME_FIELDS:
            self.fields[name].validators.append(validate_person_name)
        for name, message in REQUIRED.items():
            self.fields[name].error_messages["required"] = message
        self.fields["date_of_birth"].error_messages["invalid"] = (
            "Enter the date of birth as a full date (day, month and year)."
        )
        self.fields["email"].error_messages["invalid"] = (
            "Check the e-mail address: it should look like name@example.org."
        )
        if assign_mrn:
            self.fields["mrn"].required = False
            self.fields["mrn"].help_text = (
                f"Leave empty to have the clinic's next MRN assigned ({next_mrn()} now), "
                "or type an MRN the patient already has."
            )

    def validate_unique(self) -> None:
        """The service checks MRN clashes (with a clearer message); the database has the last word."""


def _staff(*roles: Role) -> forms.ModelChoiceField[StaffUser]:
    return forms.ModelChoiceField(
        queryset=StaffUser.objects.filter(is_active=True, role__in=[r.value for r in roles]),
        required=False,
    )


class CareTeamForm(forms.Form):
    prescriber = _staff(Role.PRESCRIBER, Role.MEDICAL_DIRECTOR)
    therapist = _staff(Role.THERAPIST)
    nurse = _staff(Role.NURSE)


class MeasurementForm(forms.Form):
    measured_on = forms.DateField(
        widget=DATE,
        initial=timezone.localdate,
        error_messages={"required": "Enter the date the weight was measured."},
    )
    weight_kg = StrictNumberField(
        label="Weight (kg)",
        fmt=limits.WEIGHT_KG,
        error_messages={"required": "Enter the weight in kg: dose calculations need it."},
    )
    height_cm = StrictNumberField(
        label="Height (cm)",
        fmt=limits.HEIGHT_CM,
        required=False,
    )


class FindPatientForm(forms.Form):
    q = forms.CharField(label="Name or MRN", required=False, max_length=120)
    dob = forms.DateField(label="Date of birth", required=False, widget=DATE)


class PossibleDuplicateForm(forms.Form):
    """Shown when the person may already be registered: registering anyway needs a reason."""

    register_anyway = forms.BooleanField(
        label="This is a different person: register anyway", required=False
    )
    reason = forms.CharField(
        label="Why this is a different person",
        required=False,
        max_length=MAX_REASON_LENGTH,
        help_text="For example: a different person with the same name, checked against their ID.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("register_anyway") and not (data.get("reason") or "").strip():
            self.add_error("reason", "Say why this is a different person before registering.")
        return data

    @property
    def duplicate_reason(self) -> str:
        data = getattr(self, "cleaned_data", {})
        return (data.get("reason") or "").strip() if data.get("register_anyway") else ""
