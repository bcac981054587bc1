"""The biller's forms: recoding a line, voiding it, posting to the account, a claim, its status."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms

from kapstone.billing.models import ClaimStatus, EntryKind
from kapstone.billing.services.account import METHODS
from kapstone.clinical.billing.codes import BillingCode


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


# Billing setup: payers, the practice's billing numbers per site, clinicians' NPIs, fee schedules.

_DOLLARS = re.compile(r"^\$?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$")


def cents_of(text: str) -> int:
    """``"450"``, ``"$1,200.50"``, ``"12.5"`` -> integer cents; anything else is refused."""
    found = _DOLLARS.match(text.strip())
    if found is None:
        raise forms.ValidationError(f"{text.strip()} is not an amount in dollars and cents.")
    whole, part = found.group(1).replace(",", ""), found.group(2) or ""
    return int(whole) * 100 + int(part.ljust(2, "0") or "0")


_STATE_HELP = "Two letters, e.g. NY"


class PayerForm(forms.Form):
    name = forms.CharField(label="Payer's name", max_length=120)
    payer_id = forms.CharField(
        label="Payer ID for electronic claims",
        max_length=80,
        help_text="The ID the payer publishes for claims sent electronically, e.g. 60054",
    )
    address_line = forms.CharField(label="Claims mailing address", max_length=120, required=False)
    city = forms.CharField(max_length=60, required=False)
    state = forms.CharField(max_length=2, required=False, help_text=_STATE_HELP)
    postal_code = forms.CharField(label="ZIP code", max_length=10, required=False)

    def clean_state(self) -> str:
        return str(self.cleaned_data["state"]).strip().upper()


class BillingProviderForm(forms.Form):
    site = forms.ChoiceField(label="Site")
    name = forms.CharField(label="Practice's legal name", max_length=120)
    npi = forms.CharField(label="Practice's NPI", max_length=10, help_text="10 digits")
    tax_id = forms.CharField(
        label="Tax ID (employer identification number)",
        max_length=10,
        help_text="9 digits, e.g. 12-3456789",
    )
    taxonomy_code = forms.CharField(
        label="Taxonomy code", max_length=10, required=False, help_text="If payers ask for one"
    )
    address_line = forms.CharField(label="Street address", max_length=120)
    city = forms.CharField(max_length=60)
    state = forms.CharField(max_length=2, help_text=_STATE_HELP)
    postal_code = forms.CharField(label="ZIP code", max_length=10)
    phone = forms.CharField(max_length=20, required=False)

    def clean_state(self) -> str:
        return str(self.cleaned_data["state"]).strip().upper()

    def clean_npi(self) -> str:
        return str(self.cleaned_data["npi"]).strip()


class ClinicianNumberForm(forms.Form):
    clinician = forms.ChoiceField(label="Clinician")
    npi = forms.CharField(label="Clinician's own NPI", max_length=10, help_text="10 digits")

    def clean_npi(self) -> str:
        return str(self.cleaned_data["npi"]).strip()


class FeeScheduleVersionForm(forms.Form):
    """Where and when the prices apply, then one price field per code in force that day (blank:
    the code is not priced in this version)."""

    site = forms.ChoiceField(label="Site")
    payer = forms.ChoiceField(
        label="Prices for", required=False, help_text="Self-pay: the clinic's own prices"
    )
    effective_from = forms.DateField(
        label="In force from",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Older versions stay as they are; this one applies to services from this day",
    )

    def __init__(self, *args: Any, codes: Sequence[BillingCode] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.codes = list(codes)
        for code in self.codes:
            self.fields[f"price_{code.code}"] = forms.CharField(
                label=f"{code.code}: {code.description}",
                required=False,
                max_length=14,
                help_text="In dollars and cents, e.g. 450.00; leave blank if not priced",
                widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 10}),
            )

    def price_fields(self) -> list[forms.BoundField]:
        return [self[f"price_{code.code}"] for code in self.codes]

    def place_fields(self) -> list[forms.BoundField]:
        return [self["site"], self["payer"], self["effective_from"]]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        prices: dict[str, int] = {}
        for code in self.codes:
            name = f"price_{code.code}"
            text = str(data.get(name) or "").strip()
            if not text:
                continue
            try:
                prices[code.code] = cents_of(text)
            except forms.ValidationError as exc:
                self.add_error(name, exc)
        data["prices"] = prices
        return data
