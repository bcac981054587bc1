"""The companion's forms: patient-facing labels in plain words, translated."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kapstone.companion.models import Language


class EmailLinkForm(forms.Form):
    email = forms.EmailField(
        label=_("Your e-mail address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "inputmode": "email"}),
    )


class PasswordSignInForm(forms.Form):
    email = forms.EmailField(
        label=_("Your e-mail address"),
        widget=forms.EmailInput(attrs={"autocomplete": "username", "inputmode": "email"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("6-digit code from your authenticator app"),
        max_length=10,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*"}
        ),
    )


class ChoosePasswordForm(forms.Form):
    password = forms.CharField(
        label=_("New password"),
        strip=False,
        help_text=_("At least 12 characters. A few unrelated words make a good one."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    confirm = forms.CharField(
        label=_("The same password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class LanguageForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language"), choices=Language.choices, widget=forms.RadioSelect
    )
