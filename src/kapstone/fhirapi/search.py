"""FHIR search over a kind's sources: parsing the query, filtering, paging and the searchset Bundle.

Paging is by offset over a stable order (each source's rows by primary key, sources in the kind's
order): ``_count`` rows from ``_offset``. A page costs one COUNT and at most one SELECT (with its
joins and prefetches) per source, however many rows it holds.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.utils import timezone

from kapstone.fhirapi.outcome import FhirProblem
from kapstone.fhirapi.registry import DatePath, Resource, ResourceKind, Source, Token

DEFAULT_COUNT = 50
MAX_COUNT = 200
# Parameters about the result rather than the match; `_offset` is the paging cursor.
RESULT_PARAMS = frozenset({"_count", "_offset", "_include", "_format"})
FORMATS = frozenset({"json", "application/json", "application/fhir+json"})
DATE_PREFIXES = ("eq", "lt", "le", "gt", "ge")

_DATE = re.compile(
    r"^(?P<prefix>[a-z]{2})?(?P<value>\d{4}(-\d{2}(-\d{2}"
    r"(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?)$"
)

_CLOCK = re.compile(r"\d{2}:\d{2}(:\d{2})?(\.\d+)?")


@dataclass(frozen=True)
class Query:
    filters: tuple[tuple[str, str], ...]  # (parameter, value) as sent, in order
    count: int
    offset: int
    includes: tuple[str, ...]

    def link(self, base: str, offset: int) -> str:
        pairs = [*self.filters, *(("_include", i) for i in self.includes)]
        pairs += [("_count", str(self.count)), ("_offset", str(offset))]
        return f"{base}?{urlencode(pairs)}"


def _whole(name: str, value: str, low: int, high: int) -> int:
    if not value.isdigit() or not low <= int(value) <= high:
        raise FhirProblem(400, "invalid", f"{name} must be a whole number from {low} to {high}.")
    return int(value)


def parse(kind: ResourceKind, pairs: Sequence[tuple[str, str]], *, lenient: bool) -> Query:
    """The query a client sent, checked: an unknown parameter is refused (400) unless the client
    asked for lenient handling, in which case it is left out."""
    filters: list[tuple[str, str]] = []
    count, offset = DEFAULT_COUNT, 0
    includes: list[str] = []
    for name, value in pairs:
        if name == "_count":
            count = _whole("_count", value, 0, 10**6) if value else DEFAULT_COUNT
            count = min(count, MAX_COUNT)
        elif name == "_offset":
            offset = _whole("_offset", value, 0, 10**12)
        elif name == "_format":
            if value not in FORMATS:
                raise FhirProblem(406, "not-supported", "Only JSON is served (_format=json).")
        elif name == "_include":
            if value in kind.includes:
                includes.append(value)
            elif not lenient:
                raise FhirProblem(
                    400,
                    "not-supported",
                    f"_include={value} is not supported on {kind.name}; supported: "
                    + (", ".join(kind.includes) or "none"),
                )
        elif name in kind.param_names:
            filters.append((name, value))
        elif not lenient:
            served = ", ".join(sorted(kind.param_names))
            raise FhirProblem(
                400,
                "not-supported",
                f"Unknown search parameter {name!r} for {kind.name}; supported: {served}.",
            )
    return Query(tuple(filters), count, offset, tuple(includes))


# --- values ---------------------------------------------------------------------------------------


def tokens(value: str) -> list[Token]:
    found: list[Token] = []
    for part in value.split(","):
        if "|" in part:
            system, _, code = part.partition("|")
            found.append(Token(system, code or None))
        else:
            found.append(Token(None, part or None))
    return found


def _moment(text: str) -> tuple[dt.datetime, dt.timedelta]:
    """The start of the period a date(time) names, and its length (its precision)."""
    zone = timezone.get_default_timezone()
    if "T" not in text:
        parts = [int(p) for p in text.split("-")]
        year, month, day = (
            parts[0],
            parts[1] if len(parts) > 1 else 1,
            parts[2] if len(parts) > 2 else 1,
        )
        start = dt.datetime(year, month, day, tzinfo=zone)
        if len(parts) == 3:
            return start, dt.timedelta(days=1)
        end = (
            dt.datetime(year + 1, 1, 1, tzinfo=zone)
            if len(parts) == 1
            else (dt.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=zone))
        )
        return start, end - start
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    clock = _CLOCK.match(text.split("T", 1)[1])
    assert clock is not None  # the pattern matched it
    if clock[2]:
        step = dt.timedelta(microseconds=1)
    elif clock[1]:
        step = dt.timedelta(seconds=1)
    else:
        step = dt.timedelta(minutes=1)
    return moment, step


def date_q(path: DatePath, value: str) -> Q:
    match = _DATE.match(value)
    if match is None:
        raise FhirProblem(400, "invalid", f"{value!r} is not a FHIR date search value.")
    prefix = match["prefix"] or "eq"
    if prefix not in DATE_PREFIXES:
        raise FhirProblem(
            400,
            "not-supported",
            f"Date prefix {prefix!r} is not supported; use eq, lt, le, gt, ge.",
        )
    try:
        start, length = _moment(match["value"])
    except ValueError as error:
        raise FhirProblem(400, "invalid", f"{value!r} is not a valid date: {error}.") from error
    end = start + length
    low: dt.date | dt.datetime = start
    high: dt.date | dt.datetime = end
    if path.is_date:
        low = start.date()
        high = (
            max(end.date(), low + dt.timedelta(days=1))
            if length < dt.timedelta(days=1)
            else end.date()
        )
    p = path.path
    return {
        "eq": Q(**{f"{p}__gte": low, f"{p}__lt": high}),
        "lt": Q(**{f"{p}__lt": low}),
        "le": Q(**{f"{p}__lt": high}),
        "gt": Q(**{f"{p}__gte": high}),
        "ge": Q(**{f"{p}__gte": low}),
    }[prefix]


def patient_pks(value: str) -> list[int]:
    found: list[int] = []
    for part in value.split(","):
        ident = part.removeprefix("Patient/")
        if not ident.isdigit() or len(ident) > 18:
            raise FhirProblem(
                400, "invalid", f"{part!r} is not a Patient reference (Patient/<id>)."
            )
        found.append(int(ident))
    return found


def narrowed(
    kind: ResourceKind, source: Source, filters: Sequence[tuple[str, str]]
) -> QuerySet[Any] | None:
    """``source``'s rows matching every filter, or None when none can."""
    rows = source.rows()
    for name, value in filters:
        condition: Q | bool
        if name == "_id":
            pks = [
                found[1]
                for ident in value.split(",")
                if (found := kind.source_for(ident)) is not None and found[0] is source
            ]
            condition = Q(pk__in=pks) if pks else False
        elif name == "patient":
            pks = patient_pks(value)
            condition = False if source.patient is None else Q(**{f"{source.patient}__in": pks})
        elif name == "_lastUpdated":
            path = None if source.updated is None else DatePath(source.updated)
            condition = False if path is None else _any(date_q(path, v) for v in value.split(","))
        elif name in source.dates:
            condition = _any(date_q(source.dates[name], v) for v in value.split(","))
        elif name in source.tokens:
            condition = source.tokens[name](tokens(value))
        else:
            condition = False  # a parameter of the kind this source's rows never match
        if condition is False:
            return None
        if condition is not True:
            rows = rows.filter(condition)
    return rows


def _any(conditions: Any) -> Q:
    combined = Q()
    for condition in conditions:
        combined |= condition
    return combined


@dataclass(frozen=True)
class Page:
    total: int
    resources: list[Resource]
    patient_ids: list[int]  # the patient each resource is about, where it is about one


def fixed_page(kind: ResourceKind, query: Query) -> Page:
    assert kind.fixed is not None
    matched = list(kind.fixed())
    for name, value in query.filters:
        if name != "_id":  # the only parameter a fixed kind lists
            raise FhirProblem(400, "not-supported", f"{kind.name} is searched by _id only.")
        wanted = set(value.split(","))
        matched = [r for r in matched if r["id"] in wanted]
    shown = matched[query.offset : query.offset + query.count]
    return Page(len(matched), shown, [])


def page(kind: ResourceKind, query: Query) -> Page:
    if kind.fixed is not None:
        return fixed_page(kind, query)
    total = 0
    resources: list[Resource] = []
    patients: list[int] = []
    skip, room = query.offset, query.count
    for source in kind.sources:
        rows = narrowed(kind, source, query.filters)
        if rows is None:
            continue
        matched = rows.count()
        total += matched
        if room == 0 or skip >= matched:
            skip = max(0, skip - matched)
            continue
        chunk = list(rows.order_by("pk")[skip : skip + room])
        skip = 0
        room -= len(chunk)
        resources.extend(source.build(row) for row in chunk)
        patients.extend(pk for row in chunk if (pk := source.patient_pk(row)) is not None)
    return Page(total, resources, patients)


def searchset(
    *,
    kind: ResourceKind,
    query: Query,
    found: Page,
    included: Sequence[Resource],
    base: str,
) -> Resource:
    """The searchset Bundle for one page, with self, first, previous and next links."""
    type_base = f"{base}/{kind.name}"
    links = [
        {"relation": "self", "url": query.link(type_base, query.offset)},
        {"relation": "first", "url": query.link(type_base, 0)},
    ]
    if query.offset > 0:
        previous = max(0, query.offset - max(query.count, 1))
        links.append({"relation": "previous", "url": query.link(type_base, previous)})
    if query.count and query.offset + query.count < found.total:
        links.append({"relation": "next", "url": query.link(type_base, query.offset + query.count)})
    entries = [
        {
            "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
            "resource": r,
            "search": {"mode": "match"},
        }
        for r in found.resources
    ] + [
        {
            "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
            "resource": r,
            "search": {"mode": "include"},
        }
        for r in included
    ]
    bundle: Resource = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": found.total,
        "link": links,
    }
    if entries:
        bundle["entry"] = entries
    return bundle
