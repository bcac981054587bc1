"""Every error the FHIR API gives is an OperationOutcome with the HTTP status that fits it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.http import HttpResponse

FHIR_JSON = "application/fhir+json"


@dataclass(frozen=True)
class FhirProblem(Exception):
    """A refusal the API turns into an OperationOutcome.

    ``code`` is FHIR's IssueType (``login``, ``forbidden``, ``not-found``, ``invalid``,
    ``not-supported``, ``too-costly``, ``exception`` ...), ``diagnostics`` is plain words for the
    client's developer and never holds patient data.
    """

    status: int
    code: str
    diagnostics: str

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.diagnostics}"


def operation_outcome(problem: FhirProblem, *, severity: str = "error") -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": problem.code, "diagnostics": problem.diagnostics}],
    }


def fhir_response(resource: dict[str, Any], *, status: int = 200) -> HttpResponse:
    return HttpResponse(
        json.dumps(resource, separators=(",", ":"), ensure_ascii=False),
        status=status,
        content_type=FHIR_JSON,
    )


def outcome_response(problem: FhirProblem) -> HttpResponse:
    response = fhir_response(operation_outcome(problem), status=problem.status)
    if problem.status == 401:
        # RFC 6750: a bearer-token resource tells the client how to authenticate.
        response["WWW-Authenticate"] = 'Bearer realm="fhir"'
    return response
