from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils import timezone

from kapstone.accounts.models import Site, StaffUser
from kapstone.clinical.routes import Route
from kapstone.patients.models import Patient
from kapstone.timetable.models import Weekday
from kapstone.timetable.selectors import schedulable_staff, scheduled_patients
from kapstone.timetable.services import MAX_WEEKS
from kapstone.web.fields import StrictIntegerField

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


if TYPE_CHECKING:  # the stubs' field is generic; Django's own class takes no subscript
    _StaffField = forms.ModelChoiceField[StaffUser]
    _PatientField = forms.ModelChoiceField[Patient]
else:
    _StaffField = _PatientField = forms.ModelChoiceField


class StaffChoice(_StaffField):
    def label_from_instance(self, obj: StaffUser) -> str:
        return f"{obj.display_name} ({obj.staff_role.label})"


class PatientChoice(_PatientField):
    def label_from_instance(self, obj: Patient) -> str:
        return f"{obj.display_name} ({obj.mrn})"


def next_monday(today: dt.date) -> dt.date:
    return today + dt.timedelta(days=7 - today.weekday())


class SolveForm(forms.Form):
    starts_on = forms.DateField(label="First day", widget=DATE)
    weeks = StrictIntegerField(
        label="Weeks",
        min_value=1,
        max_value=MAX_WEEKS,
        help_text="A retreat of six sessions at "
        "three a week needs two weeks; a shorter span books what fits and leaves the rest pending.",
    )
    patients = forms.MultipleChoiceField(
        label="Pending plans", widget=forms.CheckboxSelectMultiple, required=False
    )

    def __init__(self, *args: Any, choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        patients = self.fields["patients"]
        assert isinstance(patients, forms.MultipleChoiceField)
        patients.choices = choices


class ReplanForm(forms.Form):
    starts_on = forms.DateField(label="From", widget=DATE)
    weeks = StrictIntegerField(label="Weeks", min_value=1, max_value=MAX_WEEKS, initial=2)
    reason = forms.CharField(
        label="What changed",
        max_length=300,
        help_text="Recorded with every moved session, e.g. 'Elena Markovic off sick on Tuesday'.",
    )


class AbsenceForm(forms.Form):
    staff = StaffChoice(label="Staff member", queryset=schedulable_staff(), required=False)
    patient = PatientChoice(label="Or patient", queryset=Patient.objects.none(), required=False)
    day = forms.DateField(label="Day", widget=DATE)
    reason = forms.CharField(label="Reason", max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Who is scheduled depends on today's date: built for each form.
        staff = self.fields["staff"]
        assert isinstance(staff, StaffChoice)
        staff.queryset = schedulable_staff()
        patient = self.fields["patient"]
        assert isinstance(patient, PatientChoice)
        patient.queryset = scheduled_patients(timezone.now())


class AcceptForm(forms.Form):
    reason = forms.CharField(label="Why these sessions move", max_length=300, required=False)


class OpeningHoursForm(forms.Form):
    site = forms.ModelChoiceField(queryset=Site.objects.filter(is_active=True))
    weekday = forms.TypedChoiceField(choices=Weekday.choices, coerce=int)
    opens = forms.TimeField(required=False, widget=TIME, help_text="Leave empty: closed that day")
    closes = forms.TimeField(required=False, widget=TIME)


class ClosureForm(forms.Form):
    site = forms.ModelChoiceField(queryset=Site.objects.filter(is_active=True))
    day = forms.DateField(widget=DATE)
    reason = forms.CharField(max_length=200)


class RoomForm(forms.Form):
    site = forms.ModelChoiceField(queryset=Site.objects.filter(is_active=True))
    name = forms.CharField(max_length=80, label="Room or chair")
    routes = forms.MultipleChoiceField(
        choices=[(r.value, r.label) for r in Route], widget=forms.CheckboxSelectMultiple
    )
    turnover_minutes = StrictIntegerField(label="Turnover (minutes)", initial=15, min_value=0)


class StaffHoursForm(forms.Form):
    staff = forms.ModelChoiceField(queryset=schedulable_staff(), label="Staff member")
    weekday = forms.TypedChoiceField(choices=Weekday.choices, coerce=int)
    site = forms.ModelChoiceField(
        queryset=Site.objects.filter(is_active=True),
        required=False,
        help_text="Leave empty: not working that day",
    )
    starts = forms.TimeField(required=False, widget=TIME)
    ends = forms.TimeField(required=False, widget=TIME)
    break_starts = forms.TimeField(required=False, widget=TIME, label="Break from")
    break_ends = forms.TimeField(required=False, widget=TIME, label="Break until")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        staff = self.fields["staff"]
        assert isinstance(staff, forms.ModelChoiceField)
        staff.queryset = schedulable_staff()
