"""The patient's consent form: a typed full name and a tick (words through translation)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class SignConsentForm(forms.Form):
    shown_hash = forms.CharField(widget=forms.HiddenInput)
    typed_name = forms.CharField(
        label=_("Your full name"),
        max_length=200,
        help_text=_("Typing your name here is your signature."),
        error_messages={"required": _("Type your full name to sign.")},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    read_and_understood = forms.BooleanField(
        label=_("I have read and understood this consent"),
        error_messages={"required": _("Tick the box to say you have read and understood it.")},
    )


class WithdrawConsentForm(forms.Form):
    typed_name = forms.CharField(
        label=_("Your full name"),
        max_length=200,
        help_text=_("Type your name to withdraw your consent."),
        error_messages={"required": _("Type your full name to withdraw your consent.")},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
