"""Turning a service's InputError into form errors: the one translation every view needs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.forms import BaseForm, ChoiceField

from kapstone.errors import InputError


def show_service_errors(exc: InputError, *forms: BaseForm) -> None:
    """Puts each service error on the form that has the field, else as a non-field error on the
    first form, so no message the service gave is dropped."""
    for field, errors in exc.errors.items():
        target = next((f for f in forms if field in f.fields), forms[0])
        for error in errors:
            target.add_error(field if field in target.fields else None, error)


def choose_from(form: BaseForm, name: str, choices: Sequence[tuple[Any, str]]) -> None:
    """Gives a choice field of this form instance the choices read when the form is made (sites,
    programs, ...): a form's fields are copies, so the class's field keeps its own."""
    field = form.fields[name]
    if not isinstance(field, ChoiceField):
        raise TypeError(f"{type(form).__name__}.{name} is not a choice field")
    field.choices = choices
