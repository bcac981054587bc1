"""The notification preferences page's form: it reads what was typed; the service judges it."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

_TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class PreferencesForm(forms.Form):
    by_email = forms.BooleanField(required=False, label=_("By e-mail"))
    by_sms = forms.BooleanField(required=False, label=_("By text message"))
    mobile = forms.CharField(
        required=False,
        max_length=40,
        label=_("Mobile number"),
        help_text=_("Only needed for text messages."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    quiet_start = forms.TimeField(required=False, label=_("Quiet from"), widget=_TIME)
    quiet_end = forms.TimeField(required=False, label=_("Quiet until"), widget=_TIME)
    sessions = forms.BooleanField(required=False, label=_("Reminders of my sessions"))
    questionnaires = forms.BooleanField(required=False, label=_("Questionnaires to answer"))
    messages = forms.BooleanField(required=False, label=_("New messages from my care team"))
