"""The FHIR API's read and search views, and ``/fhir/metadata``.

API views, not staff pages: the bearer token is the authorisation (kapstone.fhirapi.access), so
they are marked ``public`` for the URL walker and take no session or CSRF token. Every answer is
FHIR JSON; every refusal an OperationOutcome. Each read is audited with the client's identity.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from kapstone.fhirapi import access, reading
from kapstone.fhirapi.capability import capability_statement
from kapstone.fhirapi.outcome import FhirProblem, fhir_response, outcome_response
from kapstone.web.authz import public

View = Callable[..., HttpResponse]


def _fhir_base(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("fhir:metadata")).removesuffix("/metadata")


def _get_only(request: HttpRequest) -> None:
    if request.method not in ("GET", "HEAD"):
        raise FhirProblem(405, "not-supported", f"{request.method} is not supported here: GET.")


def _lenient(request: HttpRequest) -> bool:
    preferences = request.headers.get("Prefer", "").replace(" ", "").split(";")
    return "handling=lenient" in preferences


@public
@csrf_exempt
def metadata(request: HttpRequest) -> HttpResponse:
    """The CapabilityStatement: open to anyone, as FHIR clients fetch it before they sign in."""
    try:
        _get_only(request)
    except FhirProblem as problem:
        return outcome_response(problem)
    return fhir_response(capability_statement(_fhir_base(request)))


@public
@csrf_exempt
def search(request: HttpRequest, resource_type: str) -> HttpResponse:
    try:
        _get_only(request)
        kind = reading.kind_named(resource_type)
        caller = access.authorise(request, resource_type=kind.name, interaction="search")
        pairs = [(name, value) for name, values in request.GET.lists() for value in values]
        answer = reading.search_page(
            kind, pairs, lenient=_lenient(request), base=_fhir_base(request)
        )
        access.audit_api_read(
            caller=caller,
            resource_type=kind.name,
            interaction="search",
            resource_ids=answer.resource_ids,
            patient_ids=answer.patient_ids,
            query=request.META.get("QUERY_STRING", ""),
        )
    except FhirProblem as problem:
        return outcome_response(problem)
    return fhir_response(answer.bundle)


@public
@csrf_exempt
def read(request: HttpRequest, resource_type: str, resource_id: str) -> HttpResponse:
    try:
        _get_only(request)
        kind = reading.kind_named(resource_type)
        caller = access.authorise(request, resource_type=kind.name, interaction="read")
        resource, patient = reading.read(kind, resource_id)
        access.audit_api_read(
            caller=caller,
            resource_type=kind.name,
            interaction="read",
            resource_ids=[f"{kind.name}/{resource_id}"],
            patient_ids=[] if patient is None else [patient],
            query="",
        )
    except FhirProblem as problem:
        return outcome_response(problem)
    return fhir_response(resource)


@public
@csrf_exempt
def unknown(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other address under /fhir/: a type not served, or an interaction not supported."""
    return outcome_response(
        FhirProblem(404, "not-supported", "Not served here; GET metadata lists what is.")
    )
