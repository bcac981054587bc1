from __future__ import annotations

from django import forms

from kapstone.clinical.plausibility import MAX_NOTE_CHARS
from kapstone.clinical.suicide_risk import AlertAction
from kapstone.web.fields import ClinicalTextField


class AcknowledgeForm(forms.Form):
    actions = forms.MultipleChoiceField(
        label="Action taken",
        widget=forms.CheckboxSelectMultiple,
        choices=[(a.value, a.label) for a in AlertAction],
        error_messages={"required": "Record at least one action taken."},
    )
    note = ClinicalTextField(
        label="Note",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What was done, what the patient said, and the plan.",
        error_messages={"required": "Describe what was done and the plan."},
    )


class HoldReviewForm(forms.Form):
    assessment = ClinicalTextField(
        label="Prescriber's review",
        max_length=MAX_NOTE_CHARS,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Your risk assessment and why further dosing may be booked.",
        error_messages={"required": "Document the review before releasing the hold."},
    )
