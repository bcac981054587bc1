from __future__ import annotations

from django import forms

from kapstone.accounts.models import Site
from kapstone.clinical.access import Modality, Role
from kapstone.names import validate_person_name


class TokenForm(forms.Form):
    token = forms.CharField(
        label="Code",
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        help_text="The 6-digit code from your authenticator app, or one of your backup codes.",
    )


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label="Current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
    new_password = forms.CharField(
        label="New password",
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 12 characters, not a common password, not all digits.",
    )
    new_password_again = forms.CharField(
        label="New password again",
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("new_password") != data.get("new_password_again"):
            self.add_error("new_password_again", "The two new passwords differ.")
        return data


def _time_zones() -> list[tuple[str, str]]:
    """The IANA zones a site may be in (regions only: no bare abbreviations, no Etc/ offsets)."""
    from zoneinfo import available_timezones

    zones = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))
    return [(z, z) for z in zones]


class SiteForm(forms.Form):
    name = forms.CharField(max_length=120)
    address = forms.CharField(max_length=250, required=False)
    phone = forms.CharField(max_length=40, required=False)
    time_zone = forms.ChoiceField(choices=_time_zones, initial="America/New_York")


class StaffForm(forms.Form):
    username = forms.CharField(max_length=150)
    first_name = forms.CharField(max_length=150, validators=[validate_person_name])
    last_name = forms.CharField(max_length=150, validators=[validate_person_name])
    email = forms.EmailField()
    role = forms.ChoiceField(choices=[(r.value, r.label) for r in Role])
    credentials = forms.CharField(max_length=40, required=False, help_text="e.g. MD, NP, RN, LCSW")
    sites = forms.ModelMultipleChoiceField(
        queryset=Site.objects.filter(is_active=True), widget=forms.CheckboxSelectMultiple
    )
    modalities = forms.MultipleChoiceField(
        choices=[(m.value, m.label) for m in Modality],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Therapists only: the integration modalities they are credentialed in.",
    )
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 12 characters; the user sets up their authenticator at first sign-in.",
    )
