from __future__ import annotations

from typing import Any

from django import forms

from kapstone.assessments import flow
from kapstone.clinical.instruments import INSTRUMENTS, InstrumentDefinition, Item
from kapstone.web.fields import StrictIntegerField
from kapstone.web.forms import choose_from

MISSING_ANSWER = "Please choose an answer to this question to go on."


class QuestionForm(forms.Form):
    """One question: its options as radio buttons, values JSON-encoded so yes/no stays boolean."""

    answer = forms.ChoiceField(widget=forms.RadioSelect)

    def __init__(self, *args: Any, item: Item, required: bool, label: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        choose_from(
            self, "answer", [(flow.encode(option.value), option.label) for option in item.options]
        )
        field = self.fields["answer"]
        field.required = required
        field.label = label
        field.error_messages["required"] = MISSING_ANSWER
        field.error_messages["invalid_choice"] = "Please choose one of the answers shown."

    def chosen(self) -> object | None:
        raw = self.cleaned_data.get("answer")
        return flow.decode(raw) if raw else None


class SendForm(forms.Form):
    """Either a link (valid for some days) or, with ``hand_over``, this tablet handed to the patient
    (the kiosk's validity is fixed, so the days are not asked)."""

    instruments = forms.MultipleChoiceField(
        label="Questionnaires",
        widget=forms.CheckboxSelectMultiple,
        choices=[(name, INSTRUMENTS[name].title) for name in flow.SELF_REPORT],
        error_messages={"required": "Choose at least one questionnaire."},
    )
    valid_days = StrictIntegerField(
        label="Link valid for (days)",
        min_value=1,
        max_value=30,
        initial=7,
        required=False,
        help_text="The patient can stop and come back with the same link until it expires.",
    )

    def __init__(self, *args: Any, hand_over: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.hand_over = hand_over

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if self.hand_over:
            self.errors.pop("valid_days", None)
        elif (
            cleaned is not None
            and cleaned.get("valid_days") is None
            and "valid_days" not in self.errors
        ):
            self.add_error("valid_days", "Say for how many days the link stays valid (1-30).")
        return cleaned


def item_field(item: Item) -> str:
    return f"item_{item.id}"


class RatingForm(forms.Form):
    """Every item of a clinician-rated instrument on one page, filled in at the interview. Items are
    optional here so that the service names every missing one at once."""

    rated_at = forms.DateTimeField(
        label="Interview time",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"required": "Give the time of the interview."},
    )

    def __init__(self, *args: Any, definition: InstrumentDefinition, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.definition = definition
        for item in definition.items:
            self.fields[item_field(item)] = forms.ChoiceField(
                label=flow.wording(definition, item),
                widget=forms.RadioSelect,
                choices=[(flow.encode(option.value), option.label) for option in item.options],
                required=False,
                error_messages={"invalid_choice": "Choose one of the ratings shown."},
            )

    def items(self) -> list[tuple[Item, forms.BoundField]]:
        return [(item, self[item_field(item)]) for item in self.definition.items]

    def answers(self) -> dict[str, object]:
        chosen = {}
        for item in self.definition.items:
            raw = self.cleaned_data.get(item_field(item))
            if raw:
                chosen[item.id] = flow.decode(raw)
        return chosen

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        """Puts the service's messages on the item (or field) they name."""
        for key, messages in errors.items():
            if key in self.definition.item_ids:
                field: str | None = item_field(self.definition.item(key))
            else:
                field = key if key in self.fields else None
            for message in messages:
                self.add_error(field, message)
