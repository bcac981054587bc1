from __future__ import annotations

from django import forms

from kapstone.clinical.suicide_risk import AlertAction


class AcknowledgeForm(forms.Form):
    actions = forms.MultipleChoiceField(
        label="Action taken",
        widget=forms.CheckboxSelectMultiple,
        choices=[(a.value, a.label) for a in AlertAction],
        error_messages={"required": "Record at least one action taken."},
    )
    note = forms.CharField(
        label="Note",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What was done, what the patient said, and the plan.",
        error_messages={"required": "Describe what was done and the plan."},
    )


class HoldReviewForm(forms.Form):
    assessment = forms.CharField(
        label="Prescriber's review",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Your risk assessment and why further dosing may be booked.",
        error_messages={"required": "Document the review before releasing the hold."},
    )
