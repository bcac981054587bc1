"""The audit browser's filters."""

from __future__ import annotations

from django import forms

from kapstone.accounts.models import StaffUser


class AuditFilterForm(forms.Form):
    actor = forms.ModelChoiceField(queryset=StaffUser.objects.all(), required=False)
    action = forms.CharField(required=False, max_length=80, help_text="e.g. chart.viewed")
    mrn = forms.CharField(label="Patient MRN", required=False, max_length=20)
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
