"""What the FHIR API serves: one :class:`ResourceKind` per resource type, in :data:`KINDS`.

The contract the read/search views, the CapabilityStatement and Bulk ``$export`` share:

- ``KINDS[name].export(patient_ids=..., since=...)`` yields a type's resources as dicts, in
  batches with flat memory (``patient_ids=None``: every patient; ``since``: changed at or after).
- ``group_patient_ids(group_id)`` is the members of a Group (a program or a site), or raises
  ``FhirProblem(404, "not-found", ...)``.

A kind is served from one or more :class:`Source` s: a query over one of Kapstone's own tables and
a builder turning a row into a resource (no second copy of the data). A source's rows are one
resource each, so paging counts rows; the ids of a kind with several sources carry the source's key
(``vital-bp-12``), which is how a read finds its table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.db.models import Q, QuerySet

from kapstone.fhirapi.outcome import FhirProblem

Resource = dict[str, Any]

EXPORT_BATCH = 2000  # rows a query
EXPORT_PATIENTS = 200  # patients a query, for a Group's export


@dataclass(frozen=True)
class Token:
    """A token search value: ``system|code``, ``code`` (any system) or ``|code`` (no system)."""

    system: str | None
    code: str | None

    def matches(self, system: str, code: str) -> bool:
        if self.system is not None and self.system != system:
            return False
        return self.code is None or self.code == code


# A token filter: the Q narrowing the source's rows, True (all rows match) or False (none do).
TokenFilter = Callable[[Sequence[Token]], "Q | bool"]


@dataclass(frozen=True)
class DatePath:
    """Where a date search parameter looks: an ORM path, and whether it is a date (not a time)."""

    path: str
    is_date: bool = False


@dataclass(frozen=True)
class Source:
    key: str  # id prefix; "" for the one source of a single-source kind
    rows: Callable[[], QuerySet[Any]]  # the rows served, with what the builder needs joined
    build: Callable[[Any], Resource]
    # ORM path of the latest moment Kapstone records for the row (meta.lastUpdated, _lastUpdated,
    # $export's _since); None where the table keeps none (sites, rooms): such rows always match.
    updated: str | None
    patient: str | None = None  # ORM path of the patient's pk (None: not about one patient)
    # The attribute ``rows`` annotates each row with the patient's pk (None: walk ``patient``).
    patient_value: str | None = None
    dates: Mapping[str, DatePath] = field(default_factory=dict)  # date search parameters
    tokens: Mapping[str, TokenFilter] = field(default_factory=dict)  # token search parameters

    def patient_pk(self, row: Any) -> int | None:
        """The pk of the patient ``row`` is about (its joins are loaded by ``rows``)."""
        if self.patient is None:
            return None
        if self.patient_value is not None:
            return int(getattr(row, self.patient_value))
        value = row
        for step in self.patient.split("__"):
            value = getattr(value, step)
        return int(value)

    def resource_id(self, pk: int) -> str:
        return f"{self.key}-{pk}" if self.key else str(pk)


@dataclass(frozen=True)
class SearchParam:
    name: str
    type: str  # FHIR SearchParamType: token, reference, date, string ...
    documentation: str


@dataclass(frozen=True)
class ResourceKind:
    name: str  # "Observation"
    in_patient_compartment: bool  # Patient itself counts as True
    # export(*, patient_ids: Collection[int] | None, since: datetime | None) -> resources as dicts,
    # in batches, flat memory
    export: Callable[..., Iterator[Resource]]
    sources: tuple[Source, ...]
    search_params: tuple[SearchParam, ...]
    profile: str | None = None  # the US Core profile the resources are shaped after
    includes: tuple[str, ...] = ()  # "_include" values served ("Observation:patient")
    documentation: str = ""
    # A kind served from Kapstone's code rather than its tables (Questionnaire, from the
    # instrument library): every resource, in a stable order; searched by _id only.
    fixed: Callable[[], Sequence[Resource]] | None = None

    def source_for(self, resource_id: str) -> tuple[Source, int] | None:
        """The source and row pk an id names, or None when it names none."""
        for source in self.sources:
            if source.key:
                head, _, tail = resource_id.rpartition("-")
                if head != source.key:
                    continue
            else:
                tail = resource_id
            if tail.isdigit() and not tail.startswith("0") and len(tail) < 19:
                return source, int(tail)
        return None

    @property
    def param_names(self) -> frozenset[str]:
        return frozenset(p.name for p in self.search_params)


def _keyset(rows: QuerySet[Any]) -> Iterator[list[Any]]:
    """``rows`` in batches of EXPORT_BATCH by primary key: keyset paging, one query a batch."""
    last = 0
    while True:
        batch = list(rows.filter(pk__gt=last).order_by("pk")[:EXPORT_BATCH])
        if batch:
            yield batch
        if len(batch) < EXPORT_BATCH:
            return
        last = batch[-1].pk


def export_sources(
    sources: Sequence[Source],
    *,
    patient_ids: Collection[int] | None,
    since: dt.datetime | None,
) -> Iterator[Resource]:
    """Every row of ``sources`` as a resource, read in batches of at most EXPORT_BATCH rows by
    primary key (keyset paging: memory stays flat however many rows there are).

    For a set of patients (a Group), the patients are taken EXPORT_PATIENTS at a time and each
    slice's rows are keyset-paged in turn: every query names a short list of patients, which the
    database answers from the patient's index instead of walking the whole table in key order
    looking for them. Rows then come by patient slice, each slice's in key order."""
    slices: list[list[int]] | None = None
    if patient_ids is not None:
        wanted = sorted(set(patient_ids))
        slices = [wanted[i : i + EXPORT_PATIENTS] for i in range(0, len(wanted), EXPORT_PATIENTS)]
    for source in sources:
        rows = source.rows()
        if since is not None and source.updated is not None:
            rows = rows.filter(**{f"{source.updated}__gte": since})
        if slices is None:
            parts: Iterator[QuerySet[Any]] = iter((rows,))
        elif source.patient is None:
            continue
        else:
            parts = (rows.filter(**{f"{source.patient}__in": part}) for part in slices)
        build = source.build
        for part in parts:
            for batch in _keyset(part):
                for row in batch:
                    yield build(row)


def export_fixed(
    fixed: Callable[[], Sequence[Resource]],
    *,
    patient_ids: Collection[int] | None,
    since: dt.datetime | None,
) -> Iterator[Resource]:
    """A fixed kind's resources: about no patient, so none for a patient-level export."""
    if patient_ids is None:
        yield from fixed()


def fixed_kind(
    name: str,
    *,
    resources: Callable[[], Sequence[Resource]],
    search_params: Sequence[SearchParam],
    documentation: str = "",
) -> ResourceKind:
    return ResourceKind(
        name=name,
        in_patient_compartment=False,
        export=partial(export_fixed, resources),
        sources=(),
        search_params=tuple(search_params),
        documentation=documentation,
        fixed=resources,
    )


def kind(
    name: str,
    *,
    sources: Sequence[Source],
    search_params: Sequence[SearchParam],
    in_patient_compartment: bool,
    profile: str | None = None,
    includes: Sequence[str] = (),
    documentation: str = "",
) -> ResourceKind:
    return ResourceKind(
        name=name,
        in_patient_compartment=in_patient_compartment,
        export=partial(export_sources, tuple(sources)),
        sources=tuple(sources),
        search_params=tuple(search_params),
        profile=profile,
        includes=tuple(includes),
        documentation=documentation,
    )


def _kinds() -> dict[str, ResourceKind]:
    from kapstone.fhirapi.resources import ALL

    return {k.name: k for k in sorted(ALL, key=lambda k: k.name)}


KINDS: Mapping[str, ResourceKind] = _kinds()


def group_patient_ids(group_id: str) -> list[int]:
    """The pks of a Group's members (a program's or a site's patients), in pk order."""
    from kapstone.fhirapi.resources.group import member_ids

    found = member_ids(group_id)
    if found is None:
        raise FhirProblem(404, "not-found", f"There is no Group/{group_id}.")
    return found
