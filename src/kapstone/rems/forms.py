from __future__ import annotations

from django import forms

from kapstone.rems.services import CONFIRMATION_MAX
from kapstone.web.fields import ClinicalTextField


class FilingForm(forms.Form):
    filed_on = forms.DateField(
        label="Filed on",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="The day the form was submitted on the REMS portal or sent by fax.",
    )
    confirmation_number = forms.CharField(
        label="REMS confirmation number",
        required=False,
        max_length=CONFIRMATION_MAX,
        help_text="As the portal shows it after submitting.",
    )
    note = ClinicalTextField(
        label="Note",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Needed without a confirmation number (for example: sent by fax, and when).",
    )
