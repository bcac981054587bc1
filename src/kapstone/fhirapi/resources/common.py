"""Pieces every resource module uses: references, instants, meta, the shared search parameters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db.models import Q

from kapstone.fhirapi.registry import Resource, SearchParam, Token, TokenFilter
from kapstone.interop.fhir_checks import fhir_datetime

UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition"

# Search parameters more than one kind serves, worded once.
PATIENT = SearchParam("patient", "reference", "The patient the resource is about: Patient/<id>.")
ID = SearchParam("_id", "token", "The resource's logical id.")
LAST_UPDATED = SearchParam(
    "_lastUpdated",
    "date",
    "When Kapstone last recorded the resource (prefixes eq, lt, le, gt, ge).",
)


def instant(value: dt.datetime) -> str:
    return fhir_datetime(value.astimezone(dt.UTC))


def ref(kind: str, pk: int | str | None) -> dict[str, str] | None:
    return None if pk is None else {"reference": f"{kind}/{pk}"}


def patient_ref(pk: int) -> dict[str, str]:
    return {"reference": f"Patient/{pk}"}


def with_meta(
    resource: Resource, updated: dt.datetime | None, profile: str | None = None
) -> Resource:
    """``resource`` with ``meta`` (lastUpdated, profile) placed right after its id."""
    meta: dict[str, Any] = {}
    if updated is not None:
        meta["lastUpdated"] = instant(updated)
    if profile is not None:
        meta["profile"] = [profile]
    head = {"resourceType": resource["resourceType"], "id": resource["id"]}
    if meta:
        head["meta"] = meta
    return head | {k: v for k, v in resource.items() if k not in head}


def drop_empty(resource: Resource) -> Resource:
    """FHIR allows no empty strings, lists or objects: leave such elements out."""
    return {k: v for k, v in resource.items() if v not in ("", None, [], {})}


def fixed(system: str, code: str) -> TokenFilter:
    """A token filter for a source whose rows all carry one code."""

    def matches(tokens: Sequence[Token]) -> Q | bool:
        return any(t.matches(system, code) for t in tokens)

    return matches


def choice(path: str, system: str, codes: Sequence[str]) -> TokenFilter:
    """A token filter on a column holding the code itself."""

    def matches(tokens: Sequence[Token]) -> Q | bool:
        wanted = [c for c in codes if any(t.matches(system, c) for t in tokens)]
        return Q(**{f"{path}__in": wanted}) if wanted else False

    return matches
