"""Turning a service's InputError into form errors: the one translation every view needs."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from django.forms import Form

from kapstone.errors import InputError

# A form's name for a service's field, when they differ: a mapping, or a function (None: no field).
Aliases = Mapping[str, str] | Callable[[str], str | None]


def show_service_errors(exc: InputError, *forms: Form, aliases: Aliases | None = None) -> None:
    """Puts each service error on the form that has the field (or its alias), else as a non-field
    error on the first form, so no message the service gave is dropped."""
    for field, errors in exc.errors.items():
        name = _form_field(field, forms, aliases)
        target = next((f for f in forms if name is not None and name in f.fields), forms[0])
        for error in errors:
            target.add_error(name if name is not None and name in target.fields else None, error)


def _form_field(field: str, forms: tuple[Form, ...], aliases: Aliases | None) -> str | None:
    if aliases is None or any(field in f.fields for f in forms):
        return field
    if callable(aliases):
        return aliases(field)
    return aliases.get(field, field)
