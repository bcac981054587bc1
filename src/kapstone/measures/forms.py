from __future__ import annotations

from django import forms

from kapstone.measures.plans import PLAN_CHOICES

_WHEN = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class CarePlanForm(forms.Form):
    plan = forms.ChoiceField(
        label="Measurement plan",
        choices=PLAN_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a measurement plan."},
    )
    intake_at = forms.DateTimeField(
        label="Intake",
        widget=_WHEN,
        help_text="Baseline questionnaires are due from this time.",
        error_messages={
            "required": "Give the intake date and time.",
            "invalid": "Enter the date and time, e.g. 2026-12-01 09:30.",
        },
    )
    end_of_course = forms.DateTimeField(
        label="End of the course",
        widget=_WHEN,
        required=False,
        help_text="Leave empty until it is known; end-of-course and follow-up measures start "
        "from it.",
        error_messages={"invalid": "Enter the date and time, e.g. 2026-12-20 17:00."},
    )
