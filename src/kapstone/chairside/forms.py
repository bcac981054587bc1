"""Chair-side forms. Numbers arrive as typed; the core's validation says what is wrong with them,
and a refused form comes back with everything the nurse typed still in it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.chairside.models import (
    SEDATION_CHOICES,
    AdverseEventKind,
    AlertAction,
    Severity,
)
from kapstone.clinical import plausibility as limits
from kapstone.clinical.numbers import MAX_NUMBER_CHARS, NumberError, parse_whole
from kapstone.clinical.pregnancy import PregnancyStatus
from kapstone.clinical.vital_signs import DissociationScale
from kapstone.ledger.models import LedgerEntry
from kapstone.ledger.units import show
from kapstone.web.fields import ClinicalTextField, StrictNumberField

TIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
PREGNANCY_CHOICES = [
    ("", "Not asked / does not apply"),
    (PregnancyStatus.NOT_PREGNANT.value, "Not pregnant"),
    (PregnancyStatus.PREGNANT.value, "Pregnant"),
    (PregnancyStatus.UNKNOWN.value, "Unknown (not tested, declined, unsure)"),
]


def _now() -> str:
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


def _time_field(label: str, required: bool = True) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label, widget=TIME, input_formats=["%Y-%m-%dT%H:%M"], required=required
    )


class ChecklistForm(forms.Form):
    identity_confirmed = forms.BooleanField(
        label="Identity confirmed: name and date of birth match the chart", required=False
    )
    fasting_confirmed = forms.BooleanField(label="Fasted as advised", required=False)
    escort_confirmed = forms.BooleanField(
        label="Escort present or arranged, and a ride home (not driving)", required=False
    )
    pregnancy_status = forms.ChoiceField(
        label="Pregnancy status", choices=PREGNANCY_CHOICES, required=False
    )
    weight_kg = StrictNumberField(
        label="Weight today (kg)",
        required=False,
        fmt=limits.WEIGHT_KG,
        limit=limits.WEIGHT_RANGE_KG,
    )
    note = ClinicalTextField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}))


def typed_whole(raw: str) -> object:
    """A whole number if typed as one (ASCII digits only), else the text as typed, for the core
    to refuse by name; over-long text is cut so the message stays short."""
    raw = (raw or "").strip()
    if raw == "":
        return None
    try:
        return parse_whole(raw, limits.WHOLE)
    except NumberError:
        return raw[:MAX_NUMBER_CHARS]


class VitalsForm(forms.Form):
    """Plain text boxes, not number fields: the core reads them and says what is wrong."""

    prefix = "v"
    taken_at = _time_field("Taken at")
    systolic = forms.CharField(label="Systolic (mmHg)", required=False)
    diastolic = forms.CharField(label="Diastolic (mmHg)", required=False)
    heart_rate = forms.CharField(label="Heart rate (bpm)", required=False)
    spo2 = forms.CharField(label="SpO2 (%)", required=False)
    respiratory_rate = forms.CharField(label="Respiratory rate (/min)", required=False)
    sedation = forms.ChoiceField(
        label="Sedation", choices=[("", "Not assessed"), *SEDATION_CHOICES], required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["taken_at"].initial = _now
        for name in ("systolic", "diastolic", "heart_rate", "spo2", "respiratory_rate"):
            self.fields[name].widget.attrs.update({"inputmode": "numeric", "autocomplete": "off"})

    def number(self, name: str) -> object:
        """A whole number if typed as one, else the text as typed (the core refuses it by name)."""
        return typed_whole(self.cleaned_data.get(name) or "")


class ProceedForm(forms.Form):
    rationale = ClinicalTextField(
        label="Rationale: the risk of a short-term BP rise weighed against the benefit",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class DoseChangeForm(forms.Form):
    dose_mg = StrictNumberField(label="Dose to give (mg)", fmt=limits.DOSE_MG)
    rationale = ClinicalTextField(
        label="Rationale: why this dose instead of the plan's",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class DoseForm(forms.Form):
    prefix = "d"
    dose_mg = StrictNumberField(label="Dose (mg)", required=False, fmt=limits.DOSE_MG)
    devices = StrictNumberField(
        label="Devices used (28 mg each)", required=False, fmt=limits.DEVICES, whole=True
    )
    change_reason = ClinicalTextField(
        label="Reason for a dose different from the plan", required=False
    )
    started_at = _time_field("Started at")
    stopped_at = _time_field("Stopped at (leave empty while an infusion runs)", required=False)
    ledger_entry = forms.TypedChoiceField(
        label="Ledger draw", required=False, coerce=int, empty_value=None
    )
    concentration_mg_per_ml = StrictNumberField(
        label="Concentration (mg/mL)",
        required=False,
        fmt=limits.CONCENTRATION,
        limit=limits.CONCENTRATION_MG_PER_ML,
    )
    rate_ml_per_hour = StrictNumberField(
        label="Rate (mL/h)",
        required=False,
        fmt=limits.RATE,
        limit=limits.INFUSION_RATE_ML_PER_HOUR,
    )
    witnessed_by = forms.TypedChoiceField(
        label="Witnessed by", required=False, coerce=int, empty_value=None
    )

    def __init__(
        self,
        *args: Any,
        draws: Iterable[LedgerEntry] = (),
        witnesses: Iterable[StaffUser] = (),
        esketamine: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # The chosen draw and witness are the ones offered: no second look-up, and nothing else
        # passes the choice validation.
        self.draws = {d.seq: d for d in draws}
        self.witnesses = {w.pk: w for w in witnesses}
        self.fields["started_at"].initial = _now
        draw = self.fields["ledger_entry"]
        assert isinstance(draw, forms.TypedChoiceField)
        draw.choices = [("", "The session's open draw")] + [
            (
                d.seq,
                f"#{d.seq}: {d.lot.product.name}, lot {d.lot.lot_number}, "
                f"{show(d.account.remaining, d.lot.product)} left",
            )
            for d in self.draws.values()
        ]
        draw.help_text = (
            "Charting the dose posts it as given on this draw of the controlled-substance ledger."
        )
        witness = self.fields["witnessed_by"]
        assert isinstance(witness, forms.TypedChoiceField)
        witness.choices = [("", "No witness")] + [
            (w.pk, w.display_name) for w in self.witnesses.values()
        ]
        if not esketamine:
            del self.fields["devices"]
        else:
            for name in ("concentration_mg_per_ml", "rate_ml_per_hour", "stopped_at"):
                del self.fields[name]

    def chosen_draw(self) -> LedgerEntry | None:
        """The ledger draw picked (None: the session's one open draw, found by the service)."""
        seq = self.cleaned_data.get("ledger_entry")
        return self.draws.get(seq) if seq is not None else None

    def chosen_witness(self) -> StaffUser | None:
        pk = self.cleaned_data.get("witnessed_by")
        return self.witnesses.get(pk) if pk is not None else None


class StopDoseForm(forms.Form):
    prefix = "s"
    dose = StrictNumberField(widget=forms.HiddenInput, fmt=limits.WHOLE, whole=True)
    stopped_at = _time_field("Stopped at")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["stopped_at"].initial = _now


class DissociationForm(forms.Form):
    prefix = "c"
    scale = forms.ChoiceField(
        label="Scale",
        choices=[
            (DissociationScale.CADSS_6.value, "CADSS-6"),
            (DissociationScale.CADSS.value, "CADSS"),
        ],
    )
    score = forms.CharField(
        label="Total score", widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )
    taken_at = _time_field("Rated at")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["taken_at"].initial = _now


class AdverseEventForm(forms.Form):
    prefix = "ae"
    kind = forms.ChoiceField(label="What happened", choices=AdverseEventKind.choices)
    description = ClinicalTextField(label="Describe (for 'other')", required=False, max_length=300)
    severity = forms.ChoiceField(label="Severity", choices=Severity.choices)
    sedation = forms.ChoiceField(
        label="Sedation at the time",
        choices=[("", "Not assessed"), *SEDATION_CHOICES],
        required=False,
    )
    action = ClinicalTextField(label="Action taken", widget=forms.Textarea(attrs={"rows": 2}))
    onset_at = _time_field("Onset at")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["onset_at"].initial = _now


class AcknowledgeForm(forms.Form):
    alert = StrictNumberField(widget=forms.HiddenInput, fmt=limits.WHOLE, whole=True)
    action = forms.ChoiceField(label="Action taken", choices=AlertAction.choices)
    note = ClinicalTextField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class StrikeForm(forms.Form):
    reading = StrictNumberField(widget=forms.HiddenInput, fmt=limits.WHOLE, whole=True)
    reason = ClinicalTextField(label="Why is this reading wrong?")


class DischargeForm(forms.Form):
    alert_and_oriented = forms.BooleanField(label="Alert and oriented", required=False)
    dissociation_resolved = forms.BooleanField(
        label="Dissociation resolved (clinician's judgement)", required=False
    )
    tolerating_fluids = forms.BooleanField(
        label="Tolerating oral fluids, no more than minimal nausea", required=False
    )
    escort_present = forms.BooleanField(
        label="Responsible adult present to go home with", required=False
    )
    instructions_given = forms.BooleanField(
        label="Written instructions given (no driving or decisions until after a night's sleep)",
        required=False,
    )
    on_supplemental_oxygen = forms.BooleanField(
        label="Still on supplemental oxygen", required=False
    )
    override_reason = ClinicalTextField(
        label="Reason to discharge while something still blocks (leave empty otherwise)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AddendumForm(forms.Form):
    reason = forms.CharField(label="Reason for the addendum", max_length=300)
    text = ClinicalTextField(label="Addendum text", widget=forms.Textarea(attrs={"rows": 3}))
