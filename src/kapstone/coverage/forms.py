from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms

from kapstone.billing.models import Payer
from kapstone.coverage.models import BENEFIT_CHOICES, Coverage
from kapstone.web.fields import StrictIntegerField

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MOST_UNITS = 366  # a form bound, not a payer rule: more sessions than days in a year is a typo

if TYPE_CHECKING:  # the stubs' field is generic; Django's own class takes no subscript
    _PayerField = forms.ModelChoiceField[Payer]
    _CoverageField = forms.ModelChoiceField[Coverage]
else:
    _PayerField = _CoverageField = forms.ModelChoiceField


class CoverageChoice(_CoverageField):
    def label_from_instance(self, obj: Coverage) -> str:
        return f"{obj.payer.name}, member {obj.member_id} ({obj.get_benefit_display().lower()})"


class CoverageForm(forms.Form):
    payer = _PayerField(queryset=Payer.objects.filter(is_active=True).order_by("name"))
    member_id = forms.CharField(label="Member ID", max_length=60)
    group_number = forms.CharField(label="Group number", max_length=60, required=False)
    benefit = forms.ChoiceField(
        label="Esketamine is covered under",
        choices=BENEFIT_CHOICES,
        help_text="Medical: the clinic bills the visit (and, buying the drug, the drug). Pharmacy: "
        "a specialty pharmacy bills the drug.",
    )


class AuthorisationForm(forms.Form):
    coverage = CoverageChoice(queryset=Coverage.objects.none(), label="Under the coverage")
    number = forms.CharField(label="Authorisation number", max_length=60)
    approved_units = StrictIntegerField(
        label="Sessions approved", min_value=1, max_value=MOST_UNITS
    )
    starts_on = forms.DateField(label="First day", widget=DATE)
    ends_on = forms.DateField(label="Last day", widget=DATE)

    def __init__(self, *args: Any, coverages: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["coverage"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = coverages
        only = list(coverages[:2])
        if len(only) == 1:  # one coverage: nothing to choose
            field.initial = only[0].pk


class WithdrawForm(forms.Form):
    reason = forms.CharField(label="Why", max_length=200)
