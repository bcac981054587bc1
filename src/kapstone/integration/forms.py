"""Forms for integration notes, built from the core's field specifications.

The form only carries text: ranges and required fields are the core's (``parse_structured``), so
the numbers' min/max attributes help the tablet's keyboard but the service decides."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from kapstone.accounts.models import StaffUser
from kapstone.clinical.access import Modality
from kapstone.clinical.integration_notes import HOMEWORK, MODALITY_FIELDS, FieldSpec, Kind
from kapstone.clinical.numbers import NumberFormat
from kapstone.clinical.plausibility import MAX_NOTE_CHARS
from kapstone.web.fields import ClinicalTextField, StrictNumberField


def field_name(modality: Modality, spec: FieldSpec) -> str:
    return f"{modality.value}__{spec.name}"


def _form_field(spec: FieldSpec) -> forms.Field:
    help_text = spec.help
    if spec.source is not None:
        help_text = f"{help_text} (clinic policy: {spec.source.cite()})".strip()
    if spec.kind is Kind.NUMBER:
        widget: forms.Widget = forms.NumberInput(
            attrs={"min": spec.low, "max": spec.high, "inputmode": "numeric"}
        )
    elif spec.kind is Kind.TEXT:
        widget = forms.Textarea(attrs={"rows": 2})
    else:
        widget = forms.Textarea(attrs={"rows": 3})
    # Not required here: a modality's fields are required only when it is ticked (the core says).
    return ClinicalTextField(
        label=spec.label,
        required=False,
        strip=False,
        widget=widget,
        help_text=help_text,
        max_length=MAX_NOTE_CHARS,
    )


class NoteForm(forms.Form):
    held_at = forms.DateTimeField(
        label="Session began",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"invalid": "Enter the date and time, e.g. 2026-12-01 13:30."},
    )
    minutes = StrictNumberField(
        label="Length (minutes)",
        fmt=NumberFormat("the length in minutes", "75"),
        whole=True,
        validators=[MinValueValidator(1), MaxValueValidator(180)],
        help_text="The plan expects 60-90.",
    )
    modalities = forms.MultipleChoiceField(
        label="Modalities used",
        choices=[(m.value, m.label) for m in Modality],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    narrative = ClinicalTextField(
        label="Session narrative",
        max_length=MAX_NOTE_CHARS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="What was worked on and how the patient was at the end.",
    )
    override_reason = ClinicalTextField(
        label="Reason for signing despite the warnings",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for modality, specs in MODALITY_FIELDS.items():
            for spec in specs:
                self.fields[field_name(modality, spec)] = _form_field(spec)
        self.fields[HOMEWORK.name] = _form_field(HOMEWORK)

    def modality_groups(self) -> list[tuple[Modality, list[forms.BoundField]]]:
        """Each modality with its bound fields, for one <details> per modality."""
        return [
            (m, [self[field_name(m, spec)] for spec in specs])
            for m, specs in MODALITY_FIELDS.items()
        ]

    def chosen(self) -> list[str]:
        return list(self.cleaned_data.get("modalities") or [])

    def structured(self) -> dict[str, object]:
        """The structured part as the core reads it: the ticked modalities' raw text, homework."""
        doc: dict[str, object] = {}
        for value in self.chosen():
            modality = Modality(value)
            doc[value] = {
                spec.name: self.cleaned_data.get(field_name(modality, spec), "")
                for spec in MODALITY_FIELDS[modality]
            }
        doc[HOMEWORK.name] = self.cleaned_data.get(HOMEWORK.name, "")
        return doc


def problem_field(key: str) -> str:
    """The core's problem key ("emdr.sud_before") as the form's field name."""
    return key.replace(".", "__")


class AddendumForm(NoteForm):
    """An addendum's text and reason; ticking "correct the structured record" replaces it."""

    text = ClinicalTextField(
        label="Addendum", widget=forms.Textarea(attrs={"rows": 4}), max_length=MAX_NOTE_CHARS
    )
    reason = ClinicalTextField(
        label="Why the signed note is corrected or added to",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say why the signed note is corrected or added to."},
    )
    correct = forms.BooleanField(
        label="Correct the structured record (the fields below replace the signed ones)",
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("held_at", "minutes", "narrative", "override_reason"):
            del self.fields[name]


class ProcessNoteForm(forms.Form):
    text = ClinicalTextField(
        label="Process note",
        max_length=MAX_NOTE_CHARS,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": "Write the note."},
        help_text="Kept apart from the record: only you and the colleagues you grant read it.",
    )


if TYPE_CHECKING:  # the stubs' field is generic; Django's own class takes no subscript
    _StaffField = forms.ModelChoiceField[StaffUser]
else:
    _StaffField = forms.ModelChoiceField


class ColleagueChoice(_StaffField):
    def label_from_instance(self, obj: StaffUser) -> str:
        return f"{obj.display_name} ({obj.staff_role.label})"


class AccessForm(forms.Form):
    grantee = ColleagueChoice(label="Colleague", queryset=StaffUser.objects.none())
    granted = forms.TypedChoiceField(
        label="Access",
        choices=[("1", "Grant reading of my process notes"), ("0", "Revoke it")],
        coerce=lambda v: v == "1",
    )

    def __init__(self, *args: Any, grantable: list[StaffUser], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["grantee"]
        assert isinstance(field, ColleagueChoice)
        field.queryset = StaffUser.objects.filter(pk__in=[s.pk for s in grantable]).order_by(
            "last_name", "first_name"
        )


class AfterDoseForm(forms.Form):
    """An integration session for a dose booked outside the scheduler (or one already held)."""

    starts_at = forms.DateTimeField(
        label="Starts",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={
            "invalid": "Enter the date and time, e.g. 2026-12-01 14:30.",
            "required": "Enter when the integration session starts (or started).",
        },
    )
    minutes = forms.IntegerField(label="Length (minutes)", initial=90, min_value=30, max_value=180)
    therapist = forms.ModelChoiceField(
        label="Therapist",
        queryset=StaffUser.objects.filter(is_active=True, role="therapist"),
        error_messages={"required": "Choose the therapist."},
    )
    modality = forms.ChoiceField(
        label="Modality",
        choices=[("", "Choose"), *((m.value, m.label) for m in Modality)],
        error_messages={"required": "Choose the modality."},
    )
