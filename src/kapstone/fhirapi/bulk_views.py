"""Bulk Data ``$export`` over HTTP: kick-off, status (``DELETE`` cancels) and file downloads.

The async pattern of the FHIR Bulk Data Access IG (v2): a kick-off with ``Prefer: respond-async``
answers 202 with ``Content-Location``, the status URL; polling it gives 202 with ``X-Progress``
until the manifest (200); the manifest's files are downloaded with a token of the same client.
Every error is an OperationOutcome.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from kapstone.fhirapi import selectors, services
from kapstone.fhirapi.access import caller
from kapstone.fhirapi.access_types import ApiCaller
from kapstone.fhirapi.bulk import job_dir
from kapstone.fhirapi.models import BulkExport, ExportLevel, ExportState
from kapstone.fhirapi.outcome import FhirProblem, fhir_response, outcome_response
from kapstone.fhirapi.registry import KINDS, group_patient_ids
from kapstone.fhirapi.scopes import grants
from kapstone.web.authz import public

NDJSON = "application/fhir+ndjson"
OUTPUT_FORMATS = {NDJSON, "application/ndjson", "ndjson"}
# FHIR instant: a date and time with seconds and a time zone.
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")
_KNOWN = {"_type", "_since", "_outputFormat"}


def _api(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """An API view: open to systems (they bring a token), every refusal an OperationOutcome."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except FhirProblem as problem:
            return outcome_response(problem)

    return public(csrf_exempt(wrapped))


def _since(raw: str | None) -> dt.datetime | None:
    if raw is None:
        return None
    if not _INSTANT.match(raw):
        raise FhirProblem(
            400, "invalid", "_since must be a FHIR instant, e.g. 2026-01-31T09:00:00Z"
        )
    return dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))


def _types(request: HttpRequest, who: ApiCaller, level: str) -> list[str]:
    """The types to export: those named by ``_type`` (each must be served, in scope and, below
    system level, in the Patient compartment), or else every type the token may export."""
    eligible = [
        name
        for name, kind in KINDS.items()
        if level == ExportLevel.SYSTEM or kind.in_patient_compartment
    ]
    raw = request.GET.getlist("_type")
    if not raw:
        allowed = [name for name in eligible if grants(who.scopes, name, "export")]
        if not allowed:
            raise FhirProblem(403, "forbidden", "The token's scopes allow no type to be exported")
        return allowed
    named = list(dict.fromkeys(t.strip() for value in raw for t in value.split(",") if t.strip()))
    unknown = [t for t in named if t not in KINDS]
    if unknown:
        raise FhirProblem(
            400, "not-supported", f"_type names types not served: {', '.join(unknown)}"
        )
    outside = [t for t in named if t not in eligible]
    if outside:
        raise FhirProblem(
            400,
            "invalid",
            f"Not in the Patient compartment, so not exported at this level: {', '.join(outside)}",
        )
    refused = [name for name in named if not grants(who.scopes, name, "export")]
    if refused:
        raise FhirProblem(
            403,
            "forbidden",
            f"The token's scopes do not allow export of {', '.join(refused)} "
            "(needs system/<type>.rs or system/*.rs)",
        )
    return named


def _kick_off(request: HttpRequest, level: str, group_id: str = "") -> HttpResponse:
    if request.method != "GET":
        raise FhirProblem(405, "not-supported", "Start an export with GET")
    who = caller(request)
    if "respond-async" not in request.headers.get("Prefer", ""):
        raise FhirProblem(400, "invalid", "$export needs the header Prefer: respond-async")
    accept = request.headers.get("Accept", "application/fhir+json")
    if not any(a in accept for a in ("application/fhir+json", "application/json", "*/*")):
        raise FhirProblem(400, "invalid", "Accept must be application/fhir+json")
    output_format = request.GET.get("_outputFormat")
    if output_format is not None and output_format not in OUTPUT_FORMATS:
        raise FhirProblem(400, "not-supported", "Only _outputFormat=application/fhir+ndjson")
    lenient = "handling=lenient" in request.headers.get("Prefer", "")
    others = sorted(set(request.GET) - _KNOWN)
    if others and not lenient:
        raise FhirProblem(400, "not-supported", f"Parameters not supported: {', '.join(others)}")
    if level == ExportLevel.GROUP:
        group_patient_ids(group_id)  # 404 for a Group that does not exist
    types = _types(request, who, level)
    job = services.start_export(
        caller=who,
        level=level,
        group_id=group_id,
        types=types,
        since=_since(request.GET.get("_since")),
        request_url=request.build_absolute_uri(),
        now=timezone.now(),
    )
    response = fhir_response(
        {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": "information",
                    "code": "informational",
                    "diagnostics": "Export started; poll the Content-Location for its status.",
                }
            ],
        },
        status=202,
    )
    response["Content-Location"] = request.build_absolute_uri(
        reverse("fhir_auth:bulk_status", args=[job.pk])
    )
    return response


@_api
def export_system(request: HttpRequest) -> HttpResponse:
    return _kick_off(request, ExportLevel.SYSTEM)


@_api
def export_patient(request: HttpRequest) -> HttpResponse:
    return _kick_off(request, ExportLevel.PATIENT)


@_api
def export_group(request: HttpRequest, group_id: str) -> HttpResponse:
    return _kick_off(request, ExportLevel.GROUP, group_id)


def _own_job(request: HttpRequest, job_id: str) -> tuple[ApiCaller, BulkExport]:
    """The caller and its job; another client's job is as unknown as one that never was."""
    who = caller(request)
    job = selectors.export_job(job_id)
    if job is None or job.client.client_id != who.client_id:
        raise FhirProblem(404, "not-found", "No such export")
    return who, job


def _manifest(request: HttpRequest, job: BulkExport) -> dict[str, Any]:
    assert job.transaction_time is not None
    return {
        "transactionTime": job.transaction_time.isoformat().replace("+00:00", "Z"),
        "request": job.request_url,
        "requiresAccessToken": True,
        "output": [
            {
                "type": entry["type"],
                "url": request.build_absolute_uri(
                    reverse("fhir_auth:bulk_file", args=[job.pk, entry["file"]])
                ),
                "count": entry["count"],
            }
            for entry in job.output
        ],
        "error": [],
    }


@_api
def bulk_status(request: HttpRequest, job_id: str) -> HttpResponse:
    who, job = _own_job(request, job_id)
    if request.method == "DELETE":
        if not services.cancel_export(caller=who, job=job):
            raise FhirProblem(404, "not-found", "The export was already cancelled or removed")
        return fhir_response(
            {
                "resourceType": "OperationOutcome",
                "issue": [
                    {"severity": "information", "code": "informational", "diagnostics": "Cancelled"}
                ],
            },
            status=202,
        )
    if request.method != "GET":
        raise FhirProblem(405, "not-supported", "GET the status, or DELETE to cancel")
    if job.state in {ExportState.QUEUED, ExportState.RUNNING}:
        response = HttpResponse(status=202)
        response["X-Progress"] = (
            "Queued" if job.state == ExportState.QUEUED else f"{job.progress}% ({job.step})"
        )
        response["Retry-After"] = "2"
        return response
    if job.state == ExportState.COMPLETE:
        response = HttpResponse(
            json.dumps(_manifest(request, job), separators=(",", ":")),
            content_type="application/json",
        )
        return response
    if job.state == ExportState.FAILED:
        raise FhirProblem(500, "exception", job.error or "The export failed")
    raise FhirProblem(404, "not-found", f"The export was {job.state}; its files are gone")


@_api
def bulk_file(request: HttpRequest, job_id: str, file_name: str) -> HttpResponseBase:
    if request.method != "GET":
        raise FhirProblem(405, "not-supported", "GET a file")
    who, job = _own_job(request, job_id)
    entry = next((o for o in job.output if o["file"] == file_name), None)
    if job.state != ExportState.COMPLETE or entry is None:
        raise FhirProblem(404, "not-found", "No such file in this export")
    path = job_dir(job) / str(entry["file"])
    if not path.is_file():
        raise FhirProblem(404, "not-found", "The file is gone")
    services.record_download(
        caller=who, job=job, resource_type=str(entry["type"]), count=int(entry["count"])
    )
    return FileResponse(path.open("rb"), content_type=NDJSON)
