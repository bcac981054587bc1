"""The one road from a core refusal to what a form shows: problems -> InputError -> form errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django import forms

from kapstone.chairside.services._common import _CORE_FIELDS
from kapstone.clinical.problems import Problem
from kapstone.clinical.vital_signs import InvalidVitalSign, validate_reading
from kapstone.errors import InputError, bare_field, problem_errors
from kapstone.web.forms import show_service_errors

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


class VitalsForm(forms.Form):
    systolic = forms.IntegerField()
    diastolic = forms.IntegerField()
    heart_rate = forms.IntegerField()


class WasteForm(forms.Form):
    stock = forms.CharField()
    amount = forms.CharField()
    reason = forms.CharField()


class WitnessForm(forms.Form):
    witness = forms.CharField()


def _bound(form_class: type[forms.Form], **data: str) -> Any:
    form = form_class(data)
    form.is_valid()
    return form


def _refused_reading(**values: Any) -> InvalidVitalSign:
    reading: dict[str, Any] = {
        "taken_at": T0,
        "systolic_mmhg": 120,
        "diastolic_mmhg": 80,
        "heart_rate_bpm": 72,
        "spo2_percent": 98,
        "respiratory_rate_per_min": 14,
    }
    with pytest.raises(InvalidVitalSign) as caught:
        validate_reading(**(reading | values))
    return caught.value


def test_a_core_refusal_becomes_an_input_error_keyed_by_the_services_fields() -> None:
    refused = _refused_reading(systolic_mmhg=400, spo2_percent=101)

    error = InputError.from_problems(refused.problems, fields=_CORE_FIELDS)

    assert set(error.errors) == {"systolic", "spo2"}
    assert error.errors["spo2"] == ["SpO2 must be 50\u2013100 %, got 101."]
    assert error.errors["systolic"][0].startswith("Systolic")


def test_the_refusal_reaches_the_form_fields_and_the_rest_the_whole_form() -> None:
    refused = _refused_reading(systolic_mmhg=400, spo2_percent=101)
    form = _bound(VitalsForm, systolic="400", diastolic="80", heart_rate="72")

    show_service_errors(InputError.from_problems(refused.problems, fields=_CORE_FIELDS), form)

    assert form.errors["systolic"][0].startswith("Systolic")
    # The form has no SpO2 field: the message is not dropped, it goes to the form as a whole.
    assert form.non_field_errors() == ["SpO2 must be 50\u2013100 %, got 101."]


def test_a_field_the_mapping_lacks_goes_to_the_default_or_keeps_its_name() -> None:
    problems = [Problem("weight_kg", "is missing"), Problem("colour", "is not a field")]
    fields = {"weight_kg": "weight"}

    assert problem_errors(problems, fields=fields) == {
        "weight": ["Is missing."],
        "colour": ["Is not a field."],
    }
    assert problem_errors(problems, fields=fields, default="") == {
        "weight": ["Is missing."],
        "": ["Is not a field."],
    }


def test_a_field_is_found_by_its_bare_name_when_the_core_says_where_it_sits() -> None:
    problems = [
        Problem("session 2: mg", "56 mg is above the ceiling", "at most 84 mg"),
        Problem("doses[1].dose_mg", "must be above 0 mg"),
    ]

    errors = problem_errors(problems, fields={"mg": "dose", "doses": "dosing"})

    assert errors == {"dose": ["56 mg is above the ceiling."], "dosing": ["Must be above 0 mg."]}
    assert bare_field("session 12: steps_mg_per_kg[3]") == "steps_mg_per_kg"


def test_each_message_is_said_once_per_field_in_the_callers_words() -> None:
    problems = [
        Problem("session 1: mg", "too high", "at most 84 mg"),
        Problem("session 2: mg", "too high", "at most 84 mg"),
    ]

    errors = problem_errors(problems, fields={"mg": "dose"}, say=lambda p: f"{p.accepts}.")

    assert errors == {"dose": ["at most 84 mg."]}


def test_aliases_put_a_services_field_on_the_forms_field_of_another_name() -> None:
    form = _bound(WasteForm, stock="1", amount="5 mg", reason="dropped")
    error = InputError(
        {
            "quantity": ["5 mg is more than the 2 mg on hand."],
            "lot": ["No stock of lot A1 has been received here."],
            "reason": ["Say what happened."],
            "patient": ["No such patient."],
        }
    )

    show_service_errors(error, form, aliases={"quantity": "amount", "lot": "stock"})

    assert form.errors["amount"] == ["5 mg is more than the 2 mg on hand."]
    assert form.errors["stock"] == ["No stock of lot A1 has been received here."]
    # A field the form has keeps its name even when an alias is given for others.
    assert form.errors["reason"] == ["Say what happened."]
    # Neither the form nor the aliases know it: the whole form carries it.
    assert form.non_field_errors() == ["No such patient."]


def test_an_alias_function_may_answer_no_field() -> None:
    form = _bound(WasteForm, stock="1", amount="5 mg", reason="dropped")
    error = InputError({"reason:R-1": ["Give a reason for R-1."], "mystery": ["Odd."]})

    def alias(key: str) -> str | None:
        return "reason" if key.startswith("reason:") else None

    show_service_errors(error, form, aliases=alias)

    assert form.errors["reason"] == ["Give a reason for R-1."]
    assert form.non_field_errors() == ["Odd."]


def test_each_error_goes_to_the_form_that_has_its_field() -> None:
    waste = _bound(WasteForm, stock="1", amount="5 mg", reason="dropped")
    witness = _bound(WitnessForm, witness="nurse2")
    error = InputError({"witness": ["The witness cannot be you."], "amount": ["Too much."]})

    show_service_errors(error, waste, witness)

    assert witness.errors["witness"] == ["The witness cannot be you."]
    assert waste.errors["amount"] == ["Too much."]
    assert not waste.non_field_errors() and not witness.non_field_errors()
