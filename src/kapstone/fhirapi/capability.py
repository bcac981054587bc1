"""The CapabilityStatement at ``/fhir/metadata``, built from the registry so it says exactly what
is served: every resource type in :data:`KINDS` with its read and search-type interactions, its
search parameters, ``_include`` values and profile, and nothing else."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
from typing import Any

from django.urls import NoReverseMatch, reverse

from kapstone.fhirapi.registry import KINDS, ResourceKind
from kapstone.fhirapi.search import RESULT_PARAMS

SMART_OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
RESTFUL_SECURITY = "http://terminology.hl7.org/CodeSystem/restful-security-service"
BULK = "http://hl7.org/fhir/uv/bulkdata"
# The Bulk Data $export operations (fhirauth's URLs), by the URL name that serves each level.
EXPORTS = {
    None: ("fhir_auth:export_system", "export"),
    "Patient": ("fhir_auth:export_patient", "patient-export"),
    "Group": ("fhir_auth:export_group", "group-export"),
}
PUBLISHED = dt.date(2026, 12, 6)  # when this statement's shape last changed


def _served(url_name: str) -> bool:
    try:
        reverse(url_name, kwargs={"group_id": "x"} if url_name.endswith("group") else None)
    except NoReverseMatch:
        return False
    return True


def _export_operation(level: str | None) -> list[dict[str, str]]:
    url_name, definition = EXPORTS[level]
    if not _served(url_name):
        return []
    return [{"name": "export", "definition": f"{BULK}/OperationDefinition/{definition}"}]


def _resource(kind: ResourceKind) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": kind.name}
    if kind.profile is not None:
        entry["supportedProfile"] = [kind.profile]
    if kind.documentation:
        entry["documentation"] = kind.documentation
    entry["interaction"] = [{"code": "read"}, {"code": "search-type"}]
    entry["versioning"] = "no-version"
    entry["readHistory"] = False
    entry["updateCreate"] = False
    if kind.includes:
        entry["searchInclude"] = list(kind.includes)
    entry["searchParam"] = [
        {"name": p.name, "type": p.type, "documentation": p.documentation}
        for p in kind.search_params
    ]
    if kind.name in EXPORTS and (operation := _export_operation(kind.name)):
        entry["operation"] = operation
    return entry


def _security(base: str) -> dict[str, Any]:
    security: dict[str, Any] = {
        "service": [{"coding": [{"system": RESTFUL_SECURITY, "code": "SMART-on-FHIR"}]}],
        "description": "SMART Backend Services: a bearer token from the token endpoint, with "
        "system/<type>.r to read and system/<type>.s to search.",
    }
    try:
        token = reverse("fhir_auth:token")
    except NoReverseMatch:
        return security
    origin = base.removesuffix("/fhir")
    security["extension"] = [
        {"url": SMART_OAUTH_URIS, "extension": [{"url": "token", "valueUri": origin + token}]}
    ]
    return security


def _version() -> str:
    try:
        return importlib.metadata.version("kapstone")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def capability_statement(base: str) -> dict[str, Any]:
    rest: dict[str, Any] = {
        "mode": "server",
        "documentation": "Read and search over Kapstone's own records. Paging: _count "
        f"(result parameters {', '.join(sorted(RESULT_PARAMS))}); unknown parameters are "
        "refused (400) unless the request says Prefer: handling=lenient.",
        "security": _security(base),
        "resource": [_resource(kind) for kind in KINDS.values()],
    }
    statement: dict[str, Any] = {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": PUBLISHED.isoformat(),
        "publisher": "Kapstone",
        "kind": "instance",
        "software": {"name": "Kapstone", "version": _version()},
        "implementation": {"description": "Kapstone FHIR R4 API", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [rest],
    }
    if operation := _export_operation(None):
        rest["operation"] = operation
        statement["instantiates"] = [f"{BULK}/CapabilityStatement/bulk-data"]
    return statement
