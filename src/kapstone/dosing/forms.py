from __future__ import annotations

import datetime as dt

from django import forms

from kapstone.accounts.models import Site
from kapstone.web.fields import StrictIntegerField


class BookSessionForm(forms.Form):
    starts_at = forms.DateTimeField(
        label="Starts",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"invalid": "Enter the date and time, e.g. 2026-12-01 09:30."},
    )
    duration_minutes = StrictIntegerField(
        label="Length including observation (minutes)",
        initial=120,
        min_value=30,
        max_value=360,
    )
    site = forms.ModelChoiceField(label="Site", queryset=Site.objects.all(), required=False)

    @property
    def duration(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.cleaned_data["duration_minutes"])


class CancelSessionForm(forms.Form):
    reason = forms.CharField(
        label="Why is the session cancelled?",
        max_length=300,
        error_messages={"required": "Say why the session is cancelled."},
    )
