"""Turning a service's InputError into form errors: the one translation every view needs."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.contrib import messages
from django.forms import BaseForm, ChoiceField
from django.http import HttpRequest

from kapstone.errors import InputError

# A form's name for a service's field, when they differ: a mapping, or a function (None: no field).
Aliases = Mapping[str, str] | Callable[[str], str | None]


def show_service_errors(exc: InputError, *forms: BaseForm, aliases: Aliases | None = None) -> None:
    """Puts each service error on the form that has the field (or its alias), else as a non-field
    error on the first form, so no message the service gave is dropped."""
    for field, errors in exc.errors.items():
        name = _form_field(field, forms, aliases)
        target = next((f for f in forms if name is not None and name in f.fields), forms[0])
        for error in errors:
            target.add_error(name if name is not None and name in target.fields else None, error)


def saved(
    request: HttpRequest,
    form: BaseForm,
    save: Callable[[dict[str, Any]], object],
    *,
    success: str,
) -> bool:
    """Whether a posted form was valid and ``save`` (the service call, given the cleaned data)
    accepted it; then ``success`` is shown on the next page. A service's refusal goes on the
    form, like its own errors."""
    if request.method != "POST" or not form.is_valid():
        return False
    try:
        save(form.cleaned_data)
    except InputError as exc:
        show_service_errors(exc, form)
        return False
    messages.success(request, success)
    return True


def _form_field(field: str, forms: tuple[BaseForm, ...], aliases: Aliases | None) -> str | None:
    if aliases is None or any(field in f.fields for f in forms):
        return field
    if callable(aliases):
        return aliases(field)
    return aliases.get(field, field)


def choose_from(form: BaseForm, name: str, choices: Sequence[tuple[Any, str]]) -> None:
    """Gives a choice field of this form instance the choices read when the form is made (sites,
    programs, ...): a form's fields are copies, so the class's field keeps its own."""
    field = form.fields[name]
    if not isinstance(field, ChoiceField):
        raise TypeError(f"{type(form).__name__}.{name} is not a choice field")
    field.choices = choices
