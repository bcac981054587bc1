"""The biller's forms: recoding a line, voiding it, posting to the account, a claim, its status."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from kapstone.billing.models import ClaimStatus, EntryKind
from kapstone.billing.services.account import METHODS


def _codes(text: str) -> list[str]:
    return [part.strip().upper() for part in text.replace(";", ",").split(",") if part.strip()]


class RecodeForm(forms.Form):
    code = forms.CharField(label="Code (CPT or HCPCS)", max_length=5)
    units = forms.IntegerField(min_value=1, max_value=99, initial=1)
    modifiers = forms.CharField(max_length=20, required=False, help_text="Comma-separated, e.g. 25")
    diagnoses = forms.CharField(
        label="Diagnoses (ICD-10-CM)",
        max_length=120,
        help_text="In order, comma-separated, e.g. F33.2, F41.1",
    )
    diagnosis_pointers = forms.CharField(
        label="Diagnosis pointers",
        max_length=12,
        initial="1",
        help_text="Which diagnoses this line treats, e.g. 1, 2",
    )
    place_of_service = forms.CharField(max_length=2, initial="11", help_text="11: office")
    reason = forms.CharField(label="Why recoded", max_length=500)

    def clean_modifiers(self) -> list[str]:
        return _codes(self.cleaned_data["modifiers"])

    def clean_diagnoses(self) -> list[str]:
        return _codes(self.cleaned_data["diagnoses"])

    def clean_diagnosis_pointers(self) -> list[int]:
        try:
            return [int(p) for p in _codes(self.cleaned_data["diagnosis_pointers"])]
        except ValueError as exc:
            raise forms.ValidationError("Pointers are numbers, e.g. 1, 2.") from exc


class VoidForm(forms.Form):
    reason = forms.CharField(label="Why void it", max_length=500)


class EntryForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[
            (k.value, k.label) for k in (EntryKind.PAYMENT, EntryKind.ADJUSTMENT, EntryKind.REFUND)
        ]
    )
    amount = forms.DecimalField(
        label="Amount ($)", min_value=Decimal("0.01"), max_digits=9, decimal_places=2
    )
    effective_on = forms.DateField(
        label="Date", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    payer = forms.ChoiceField(label="Paid by", required=False)
    method = forms.ChoiceField(
        choices=[("", "—"), *[(m, m.capitalize()) for m in METHODS]], required=False
    )
    reference = forms.CharField(
        max_length=60, required=False, help_text="Receipt, check or remittance number"
    )
    memo = forms.CharField(
        max_length=200, required=False, help_text="Required for an adjustment: why"
    )

    def clean_amount(self) -> int:
        return int(self.cleaned_data["amount"] * 100)


class ReverseEntryForm(forms.Form):
    reason = forms.CharField(label="Why reverse it", max_length=500)


class ClaimForm(forms.Form):
    payer = forms.ChoiceField()
    lines = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, label="Lines to claim")
    member_id = forms.CharField(label="Member ID", max_length=40)
    group_number = forms.CharField(max_length=40, required=False)
    address_line = forms.CharField(label="Patient's street address", max_length=120)
    city = forms.CharField(max_length=60)
    state = forms.CharField(max_length=2, help_text="Two letters, e.g. NY")
    postal_code = forms.CharField(label="ZIP code", max_length=10)

    def clean_state(self) -> str:
        return str(self.cleaned_data["state"]).upper()


class ClaimStatusForm(forms.Form):
    status = forms.ChoiceField(choices=ClaimStatus.choices)
    reason = forms.CharField(
        max_length=500, required=False, help_text="For a denial: the payer's reason"
    )
    reference = forms.CharField(
        max_length=60, required=False, help_text="The payer's claim or remittance number"
    )


def guessed_address(text: str) -> dict[str, Any]:
    """The registry keeps one address line; "12 Elm St, Albany, NY 12208" is split for a claim."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    found: dict[str, Any] = {"address_line": parts[0] if parts else ""}
    if len(parts) >= 3:
        found["city"] = parts[-2]
        tail = parts[-1].split()
        if len(tail) == 2:
            found["state"], found["postal_code"] = tail[0].upper(), tail[1]
    return found


class DiagnosesForm(forms.Form):
    codes = forms.CharField(
        label="Diagnoses for claims (ICD-10-CM)",
        max_length=200,
        help_text="In order, the primary first, comma-separated, e.g. F33.2, F41.1",
    )

    def clean_codes(self) -> list[str]:
        return _codes(self.cleaned_data["codes"])
