"""The API's reads of Kapstone's records: one resource by id, one page of a search, and the patients
they concern (API clients, tokens and export jobs are read in selectors.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kapstone.fhirapi import search
from kapstone.fhirapi.outcome import FhirProblem
from kapstone.fhirapi.registry import KINDS, Resource, ResourceKind
from kapstone.fhirapi.resources import patient as patient_resource


def kind_named(name: str) -> ResourceKind:
    found = KINDS.get(name)
    if found is None:
        raise FhirProblem(404, "not-supported", f"Resource type {name!r} is not served here.")
    return found


def read(kind: ResourceKind, resource_id: str) -> tuple[Resource, int | None]:
    """The resource with that id and the pk of the patient it is about (None: about no one)."""
    if kind.fixed is not None:
        for resource in kind.fixed():
            if resource["id"] == resource_id:
                return resource, None
    found = kind.source_for(resource_id)
    if found is not None:
        source, pk = found
        row = source.rows().filter(pk=pk).first()
        if row is not None:
            return source.build(row), source.patient_pk(row)
    raise FhirProblem(404, "not-found", f"There is no {kind.name}/{resource_id}.")


@dataclass(frozen=True)
class Answer:
    bundle: Resource
    resource_ids: list[str]  # "Type/id" of every resource in the answer
    patient_ids: list[int]  # the patients the answer's resources are about


def search_page(
    kind: ResourceKind, pairs: Sequence[tuple[str, str]], *, lenient: bool, base: str
) -> Answer:
    query = search.parse(kind, pairs, lenient=lenient)
    found = search.page(kind, query)
    included: list[Resource] = []
    if query.includes:
        wanted = sorted(set(found.patient_ids))
        rows = patient_resource.rows().filter(pk__in=wanted)
        included = [patient_resource.build(row) for row in rows]
    bundle = search.searchset(kind=kind, query=query, found=found, included=included, base=base)
    everything = [*found.resources, *included]
    return Answer(
        bundle=bundle,
        resource_ids=[f"{r['resourceType']}/{r['id']}" for r in everything],
        patient_ids=sorted(set(found.patient_ids)),
    )
