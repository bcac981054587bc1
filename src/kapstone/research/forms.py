from __future__ import annotations

from typing import Any

from django import forms

from kapstone.web.forms import choose_from


class ExportForm(forms.Form):
    period_start = forms.DateField(
        label="First contact from", widget=forms.DateInput(attrs={"type": "date"})
    )
    period_end = forms.DateField(
        label="First contact to", widget=forms.DateInput(attrs={"type": "date"})
    )
    site_ids = forms.TypedMultipleChoiceField(
        label="Sites (none ticked: every site)",
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    programs = forms.MultipleChoiceField(
        label="Programs (none ticked: every patient, with or without a plan)",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    suppress = forms.BooleanField(
        label="Leave out patients whose quasi-identifier class is smaller than k",
        required=False,
    )

    def __init__(
        self,
        *args: Any,
        sites: list[tuple[int, str]],
        programs: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        choose_from(self, "site_ids", sites)
        choose_from(self, "programs", programs)
