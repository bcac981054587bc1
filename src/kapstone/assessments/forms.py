from __future__ import annotations

from typing import Any

from django import forms

from kapstone.assessments import flow
from kapstone.clinical.instruments import INSTRUMENTS, Item

MISSING_ANSWER = "Please choose an answer to this question to go on."


class QuestionForm(forms.Form):
    """One question: its options as radio buttons, values JSON-encoded so yes/no stays boolean."""

    answer = forms.ChoiceField(widget=forms.RadioSelect)

    def __init__(self, *args: Any, item: Item, required: bool, label: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["answer"]
        field.choices = [(flow.encode(option.value), option.label) for option in item.options]  # type: ignore[attr-defined]
        field.required = required
        field.label = label
        field.error_messages["required"] = MISSING_ANSWER
        field.error_messages["invalid_choice"] = "Please choose one of the answers shown."

    def chosen(self) -> object | None:
        raw = self.cleaned_data.get("answer")
        return flow.decode(raw) if raw else None


class SendForm(forms.Form):
    instruments = forms.MultipleChoiceField(
        label="Questionnaires",
        widget=forms.CheckboxSelectMultiple,
        choices=[(name, INSTRUMENTS[name].title) for name in flow.SELF_REPORT],
        error_messages={"required": "Choose at least one questionnaire."},
    )
    valid_days = forms.IntegerField(
        label="Link valid for (days)",
        min_value=1,
        max_value=30,
        initial=7,
        help_text="The patient can stop and come back with the same link until it expires.",
    )
