from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from kapstone.accounts.models import Site
from kapstone.clinical import plausibility as limits
from kapstone.clinical.ledger import LedgerPolicy
from kapstone.clinical.ledger_entries import DestructionReason, StockUnit, Substance
from kapstone.dosing.models import DosingSession
from kapstone.ledger.models import (
    Lot,
    Product,
    ProductForm,
    StockBalance,
    StorageLocation,
)
from kapstone.ledger.units import parse, show, unit_label
from kapstone.patients.identifiers import normalise_mrn
from kapstone.patients.models import Patient
from kapstone.web.fields import ClinicalTextField, StrictNumberField

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class WitnessFields(forms.Form):
    """The second staff member types their own credentials on the same screen."""

    witness = forms.CharField(
        label="Witness's username",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
        error_messages={"required": "A second staff member must witness: their username."},
    )
    witness_secret = forms.CharField(
        label="Witness's password or authenticator code",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text="Typed by the witness: their own password, or the 6-digit code from their app.",
        error_messages={"required": "The witness enters their password or authenticator code."},
    )

    witness_required = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("witness", "witness_secret"):
            self.fields[name].required = self.witness_required


class AddProductForm(forms.Form):
    name = forms.CharField(label="Name", max_length=120, help_text="As it reads on the box.")
    substance = forms.ChoiceField(
        label="Substance", choices=[(s.value, s.value.title()) for s in Substance]
    )
    form = forms.ChoiceField(label="Form", choices=ProductForm.choices)
    concentration_mg_per_ml = StrictNumberField(
        label="Concentration (mg/mL)",
        required=False,
        fmt=limits.CONCENTRATION,
        limit=limits.CONCENTRATION_MG_PER_ML,
        help_text="Vials only.",
    )
    volume_ml = StrictNumberField(
        label="Volume per vial (mL)",
        required=False,
        fmt=limits.VOLUME_ML,
        limit=limits.VIAL_VOLUME_ML,
        help_text="Vials only.",
    )
    strength_mg = StrictNumberField(
        label="mg per lozenge, tablet or device",
        required=False,
        fmt=limits.STRENGTH_MG,
        limit=limits.UNIT_STRENGTH_MG,
        help_text="Lozenges, tablets and nasal devices (esketamine: 28 mg per device).",
    )


class AddLocationForm(forms.Form):
    site = forms.ModelChoiceField(label="Site", queryset=Site.objects.filter(is_active=True))
    name = forms.CharField(label="Name of the safe or cabinet", max_length=80)


class ReceiveForm(WitnessFields):
    location = forms.ModelChoiceField(
        label="Into", queryset=StorageLocation.objects.filter(is_active=True).select_related("site")
    )
    product = forms.ModelChoiceField(
        label="Product", queryset=Product.objects.filter(is_active=True)
    )
    lot_number = forms.CharField(label="Lot number", max_length=40)
    expires_on = forms.DateField(label="Expiry date", widget=DATE)
    containers = StrictNumberField(
        label="How many vials, devices, lozenges or tablets",
        fmt=limits.CONTAINERS,
        limit=limits.RECEIPT_CONTAINERS,
        whole=True,
    )
    supplier = forms.CharField(label="Supplier", max_length=120)
    reference = forms.CharField(
        label="Invoice or DEA order form number",
        max_length=60,
        help_text="DEA Form 222 or CSOS order number, or the invoice number.",
    )
    patient_mrn = forms.CharField(
        label="Dispensed for patient (MRN)",
        max_length=20,
        required=False,
        help_text="Esketamine dispensed for one patient: it must be given within "
        f"{LedgerPolicy().esketamine_administration_days} days.",
    )

    def clean_patient_mrn(self) -> Patient | None:
        mrn = normalise_mrn(self.cleaned_data["patient_mrn"])
        if not mrn:
            return None
        patient = Patient.objects.filter(mrn__iexact=mrn).first()
        if patient is None:
            raise forms.ValidationError(f"No patient has the MRN {mrn!r}.")
        return patient

    def clean_expires_on(self) -> Any:
        # Checked here as well as in the service so an implausible date never asks the witness.
        expires_on = self.cleaned_data["expires_on"]
        problem = limits.lot_expiry_problem(expires_on, today=timezone.localdate())
        if problem is not None:
            raise forms.ValidationError(problem)
        return expires_on


if TYPE_CHECKING:  # the stubs' field is generic; Django's own class takes no subscript
    _StockField = forms.ModelChoiceField[StockBalance]
    _SessionField = forms.ModelChoiceField[DosingSession]
else:
    _StockField = _SessionField = forms.ModelChoiceField


class StockChoiceField(_StockField):
    def label_from_instance(self, obj: StockBalance) -> str:
        product = obj.lot.product
        return (
            f"{obj.location} · {product.name} · lot {obj.lot.lot_number} "
            f"(expires {obj.lot.expires_on:%d %b %Y}) · {show(obj.balance, product)} on hand"
        )


class SessionChoiceField(_SessionField):
    def label_from_instance(self, obj: DosingSession) -> str:
        return (
            f"{timezone.localtime(obj.starts_at):%H:%M %d %b} · {obj.patient.display_name} "
            f"({obj.patient.mrn}) · {obj.site}"
        )


class _StockAmountForm(forms.Form):
    """A stock account and an amount typed in its unit (mg, or devices/lozenges/tablets)."""

    stock = StockChoiceField(label="From", queryset=StockBalance.objects.none())
    amount = forms.CharField(
        label="Amount",
        max_length=20,
        help_text="In mg for solutions; a number of devices, lozenges or tablets otherwise.",
    )

    def __init__(
        self, *args: Any, stock: QuerySet[StockBalance] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if stock is not None:
            field = self.fields["stock"]
            assert isinstance(field, StockChoiceField)
            field.queryset = stock

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        balance = data.get("stock")
        if balance is not None and data.get("amount"):
            try:
                data["quantity"] = parse(data["amount"], balance.lot.product)
            except ValueError as exc:
                self.add_error("amount", str(exc))
        return data


class DrawForm(_StockAmountForm):
    session = SessionChoiceField(label="Dosing session", queryset=DosingSession.objects.none())
    field_order = ["session", "stock", "amount"]

    def __init__(
        self, *args: Any, sessions: QuerySet[DosingSession] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if sessions is not None:
            field = self.fields["session"]
            assert isinstance(field, SessionChoiceField)
            field.queryset = sessions


class DoseForm(WitnessFields):
    """What is left of a draw: wasted or returned. What was given is not typed here: charting the
    dose on the chair-side record posts it, so the two cannot disagree."""

    wasted = forms.CharField(label="Wasted", max_length=20, required=False)
    returned = forms.CharField(
        label="Returned to the safe unused",
        max_length=20,
        required=False,
        help_text="Sealed devices, lozenges or tablets only.",
    )
    field_order = ["wasted", "returned", "witness", "witness_secret"]
    witness_required = False

    def __init__(self, *args: Any, product: Product, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.product = product
        unit = unit_label(product)
        if product.unit == StockUnit.MICROGRAM:
            del self.fields["returned"]  # solution in a syringe is given or wasted, never returned
        for name in self.amounts:
            self.fields[name].label = f"{self.fields[name].label} ({unit})"
        self.fields["witness"].help_text = "Needed for waste and returns."

    @property
    def amounts(self) -> tuple[str, ...]:
        return tuple(n for n in ("wasted", "returned") if n in self.fields)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        data["returned_quantity"] = 0
        for name in self.amounts:
            text = data.get(name) or ""
            try:
                data[f"{name}_quantity"] = parse(text, self.product) if text.strip() else 0
            except ValueError as exc:
                self.add_error(name, str(exc))
        if data.get("wasted_quantity") or data.get("returned_quantity"):
            for name, message in (
                ("witness", "Waste and returns are witnessed: the witness's username."),
                ("witness_secret", "The witness enters their password or authenticator code."),
            ):
                if not data.get(name):
                    self.add_error(name, message)
        return data


class StockWasteForm(WitnessFields, _StockAmountForm):
    reason = forms.CharField(label="What happened", max_length=300)
    field_order = ["stock", "amount", "reason", "witness", "witness_secret"]


class DestroyForm(WitnessFields, _StockAmountForm):
    reason = forms.ChoiceField(
        label="Why",
        choices=[(r.value, r.value.replace("_", " ").capitalize()) for r in DestructionReason],
    )
    note = forms.CharField(
        label="Note",
        max_length=300,
        required=False,
        help_text="Reverse distributor, DEA Form 41 reference, or why when 'other'.",
    )
    field_order = ["stock", "amount", "reason", "note", "witness", "witness_secret"]


class TransferForm(_StockAmountForm):
    to_location = forms.ModelChoiceField(
        label="To", queryset=StorageLocation.objects.filter(is_active=True).select_related("site")
    )


class CountForm(forms.Form):
    """One field per lot; blank counts are refused so nothing is left uncounted by accident."""

    def __init__(self, *args: Any, lots: list[Lot], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lots = lots
        for lot in lots:
            self.fields[f"lot_{lot.pk}"] = forms.CharField(
                label=f"{lot.product.name}, lot {lot.lot_number} ({unit_label(lot.product)})",
                max_length=20,
                error_messages={"required": "Enter what you counted, 0 if none."},
            )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        counted: dict[Lot, int] = {}
        for lot in self.lots:
            text = data.get(f"lot_{lot.pk}")
            if text is None:
                continue
            try:
                counted[lot] = parse(text, lot.product)
            except ValueError as exc:
                self.add_error(f"lot_{lot.pk}", str(exc))
        data["counted"] = counted
        return data


class ResolveForm(forms.Form):
    explanation = ClinicalTextField(
        label="Explanation",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What caused the difference, who was asked, what was found.",
        error_messages={"required": "Explain what caused the difference."},
    )
    adjust_book = forms.BooleanField(
        label="Bring the book to the count with a count-adjustment entry",
        required=False,
        initial=True,
    )


class ReverseForm(WitnessFields):
    """A witnessed entry's reversal is witnessed too (``witnessed``: the entry was)."""

    reason = forms.CharField(
        label="Why is this entry wrong?",
        max_length=300,
        error_messages={"required": "Say what was wrong with the entry."},
    )
    field_order = ["reason", "witness", "witness_secret"]
    witness_required = False

    def __init__(self, *args: Any, witnessed: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.witnessed = witnessed
        if witnessed:
            for name in ("witness", "witness_secret"):
                self.fields[name].required = True


class ReportFilterForm(forms.Form):
    patient = forms.CharField(label="Patient MRN", max_length=20, required=False)
    product = forms.ModelChoiceField(
        label="Product", queryset=Product.objects.all(), required=False, empty_label="All"
    )
    location = forms.ModelChoiceField(
        label="Location",
        queryset=StorageLocation.objects.select_related("site"),
        required=False,
        empty_label="All",
    )
    start = forms.DateField(label="From", required=False, widget=DATE)
    end = forms.DateField(label="To", required=False, widget=DATE)
    as_of = forms.DateField(label="As of", required=False, widget=DATE)

    def __init__(self, *args: Any, offered: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in list(self.fields):
            if name not in offered:
                del self.fields[name]

    def clean_patient(self) -> Patient | None:
        mrn = normalise_mrn(self.cleaned_data.get("patient") or "")
        if not mrn:
            return None
        patient = Patient.objects.filter(mrn__iexact=mrn).first()
        if patient is None:
            raise forms.ValidationError(f"No patient has the MRN {mrn!r}.")
        return patient

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", "The end of the period comes before its start.")
        return data
