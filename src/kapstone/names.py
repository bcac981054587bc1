"""The one check for a person's name (patients, their contacts and referrers, staff, who consented).

Names are shown on charts, printed on letters and PDFs, and written into the audit trail and exports.
An invisible character in one can make two names look the same, hide a word, or (a bidi override such
as U+202E) make text after it read backwards in every place the name appears. So control characters
(Unicode category Cc: tabs, newlines, NUL) and format characters (Cf: bidi embeddings, overrides and
isolates U+202A-U+202E and U+2066-U+2069, zero-width spaces and joiners, the byte-order mark) and line
or paragraph separators are refused, with the character named so staff can see what was pasted.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError

_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


def _label(char: str) -> str:
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" {name}" if name else "")


def name_problem(value: str) -> str | None:
    """Why the name cannot be stored, or None when it can."""
    for char in value:
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            return (
                "A name cannot contain control or invisible formatting characters "
                f"(found {_label(char)}); retype it rather than pasting it."
            )
    return None


def validate_person_name(value: str) -> None:
    """The same check as a Django validator, for form fields."""
    problem = name_problem(value)
    if problem is not None:
        raise ValidationError(problem, code="invisible_character")


def name_errors(values: Mapping[str, Any], fields: Iterable[str]) -> dict[str, list[str]]:
    """The problems with the named fields of ``values`` (absent or empty fields pass), for services."""
    errors: dict[str, list[str]] = {}
    for field in fields:
        value = values.get(field)
        if isinstance(value, str):
            problem = name_problem(value)
            if problem is not None:
                errors[field] = [problem]
    return errors
