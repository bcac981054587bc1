"""Input checks shared by the FHIR builders: ids, references and instants FHIR R4 will accept.

Every problem is collected before raising, so a caller fixes all of them in one pass.
"""

from __future__ import annotations

import re
from datetime import datetime

from kapstone.clinical.problems import Problem, Refused

# FHIR R4 `id`: 1-64 of letters, digits, '-' and '.'.
_ID = r"[A-Za-z0-9\-.]{1,64}"
ID_PATTERN = re.compile(rf"^{_ID}$")
ID_ACCEPTS = "1-64 characters of A-Z, a-z, 0-9, '-' and '.'"


class FhirExportErrors(Refused):
    """The inputs cannot become valid FHIR; ``problems`` names every one of them."""


def check_id(field: str, value: object, problems: list[Problem]) -> None:
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        problems.append(Problem(field, f"{value!r} is not a FHIR id", ID_ACCEPTS))


def check_reference(
    field: str, value: object, types: tuple[str, ...], problems: list[Problem]
) -> None:
    """A relative literal reference such as ``Patient/123`` to one of ``types``."""
    accepts = "a reference '<type>/<id>' with type " + " or ".join(types) + f" and id {ID_ACCEPTS}"
    if not isinstance(value, str):
        problems.append(Problem(field, f"{value!r} is not a string", accepts))
        return
    kind, _, ident = value.partition("/")
    if kind not in types or not ID_PATTERN.match(ident):
        problems.append(Problem(field, f"{value!r} is not such a reference", accepts))


def check_instant(field: str, value: object, problems: list[Problem]) -> None:
    # A FHIR dateTime with a time needs a zone, and the schema's offset has minute precision.
    accepts = "a timezone-aware datetime whose UTC offset is whole minutes"
    if not isinstance(value, datetime):
        problems.append(Problem(field, f"{value!r} is not a datetime", accepts))
        return
    offset = value.utcoffset()
    if offset is None:
        problems.append(Problem(field, "has no timezone", accepts))
    elif offset.total_seconds() % 60 or offset.microseconds:
        problems.append(Problem(field, f"UTC offset {offset} has seconds", accepts))


def fhir_datetime(value: datetime) -> str:
    """ISO 8601 as FHIR's dateTime wants it: seconds always present, 'Z' for UTC."""
    text = value.isoformat(timespec="microseconds" if value.microsecond else "seconds")
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text
