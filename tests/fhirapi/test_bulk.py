"""Bulk Data $export: kick-off, status, manifest, downloads, cancel, and who may download."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from django.utils import timezone

from kapstone.audit.models import AuditEntry
from kapstone.fhirapi import registry
from kapstone.fhirapi.models import BulkExport, ExportState
from kapstone.fhirapi.tasks import run_bulk_export
from kapstone.patients.models import Patient
from tests.conftest import kept_for_the_module
from tests.fhir_schema import load_schema, schema_errors, validators_for
from tests.fhirapi.clinic_support import build_fhir_clinic
from tests.fhirapi.support import bearer

ASYNC = {"HTTP_PREFER": "respond-async", "HTTP_ACCEPT": "application/fhir+json"}


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker):
    with kept_for_the_module(django_db_blocker):
        yield build_fhir_clinic()


@pytest.fixture(scope="module")
def validators() -> dict[str, jsonschema.Draft6Validator]:
    return validators_for(load_schema(), registry.KINDS)


@pytest.fixture
def exports(built, db, settings, tmp_path):
    settings.FHIR_EXPORT_DIR = tmp_path / "fhir-exports"
    return tmp_path / "fhir-exports"


@pytest.fixture
def ehr(exports, api_clients):
    return api_clients(client_id="warehouse", scopes="system/*.rs")


def kick_off(client: Any, token: str, path: str = "/fhir/$export", **params: str) -> str:
    got = client.get(path, params, **ASYNC, **bearer(token))
    assert got.status_code == 202, got.content
    assert got.json()["resourceType"] == "OperationOutcome"
    location = got["Content-Location"]
    assert location.startswith("http://testserver/fhir/bulk/")
    return location.removeprefix("http://testserver")


def finish(status_path: str) -> None:
    run_bulk_export.call(status_path.rsplit("/", 1)[1])


def manifest(client: Any, token: str, status_path: str) -> dict[str, Any]:
    got = client.get(status_path, **bearer(token))
    assert got.status_code == 200, got.content
    return got.json()


def download(client: Any, token: str, url: str) -> list[dict[str, Any]]:
    got = client.get(url.removeprefix("http://testserver"), **bearer(token))
    assert got.status_code == 200, got.content
    assert got["Content-Type"] == "application/fhir+ndjson"
    body = b"".join(got.streaming_content).decode("utf-8")
    assert body.endswith("\n")
    return [json.loads(line) for line in body.splitlines()]


def test_a_system_export_round_trip_validates_line_by_line(
    ehr, client, validators, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    token = ehr.token(client, "system/*.rs")
    with django_capture_on_commit_callbacks(execute=True):
        status_path = kick_off(client, token)
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "kapstone.fhirapi.tasks.run_bulk_export"
    waiting = client.get(status_path, **bearer(token))
    assert waiting.status_code == 202 and waiting["X-Progress"] == "Queued"

    finish(status_path)
    body = manifest(client, token, status_path)
    assert body["requiresAccessToken"] is True and body["error"] == []
    assert body["request"] == "http://testserver/fhir/$export"
    assert body["transactionTime"].endswith("Z")
    types = [entry["type"] for entry in body["output"]]
    assert set(types) <= set(registry.KINDS) and {"Patient", "Observation"} <= set(types)
    lines = 0
    for entry in body["output"]:
        resources = download(client, token, entry["url"])
        assert len(resources) == entry["count"] > 0
        for resource in resources:
            assert resource["resourceType"] == entry["type"]
            assert schema_errors(validators, resource) == [], (entry["type"], resource["id"])
            lines += 1
    patients = next(e for e in body["output"] if e["type"] == "Patient")
    assert patients["count"] == Patient.objects.count()
    assert lines > patients["count"]
    actions = list(
        AuditEntry.objects.filter(action__startswith="fhir.export")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions[:2] == ["fhir.export_requested", "fhir.export_completed"]
    assert actions.count("fhir.export_downloaded") == len(body["output"])
    done = AuditEntry.objects.get(action="fhir.export_completed")
    assert done.after["client_id"] == "warehouse" and done.after["patient_ids"] == "all"


def test_prefer_respond_async_is_required(ehr, client):
    token = ehr.token(client, "system/*.rs")
    got = client.get("/fhir/$export", **bearer(token))
    assert got.status_code == 400
    assert got.json()["issue"][0]["code"] == "invalid"
    assert not BulkExport.objects.exists()


def test_type_and_since_are_honoured(ehr, client):
    token = ehr.token(client, "system/*.rs")
    path = kick_off(client, token, _type="Patient,Observation")
    finish(path)
    assert [e["type"] for e in manifest(client, token, path)["output"]] == [
        "Patient",
        "Observation",
    ]
    future = (timezone.now() + timezone.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    later = kick_off(client, token, _type="Patient,Observation", _since=future)
    finish(later)
    assert manifest(client, token, later)["output"] == []
    past = kick_off(client, token, _type="Patient", _since="2000-01-01T00:00:00+00:00")
    finish(past)
    assert manifest(client, token, past)["output"][0]["count"] == Patient.objects.count()
    for bad in ({"_type": "Patient,Starship"}, {"_since": "yesterday"}, {"_since": "2026-01-01"}):
        refused = client.get("/fhir/$export", bad, **ASYNC, **bearer(token))
        assert refused.status_code == 400, bad
        assert refused.json()["resourceType"] == "OperationOutcome"
    unsupported = client.get("/fhir/$export", {"_typeFilter": "x"}, **ASYNC, **bearer(token))
    assert unsupported.status_code == 400


def test_group_and_patient_levels_export_their_patients_only(ehr, client, built):
    token = ehr.token(client, "system/*.rs")
    site = Patient.objects.order_by("pk").first().home_site
    members = set(Patient.objects.filter(home_site=site).values_list("pk", flat=True))
    path = kick_off(
        client, token, f"/fhir/Group/site-{site.pk}/$export", _type="Patient,Observation"
    )
    finish(path)
    body = manifest(client, token, path)
    patients = download(client, token, body["output"][0]["url"])
    assert {int(p["id"]) for p in patients} == members
    for entry in body["output"][1:]:
        for resource in download(client, token, entry["url"]):
            assert int(resource["subject"]["reference"].split("/")[1]) in members
    done = AuditEntry.objects.get(action="fhir.export_completed")
    assert done.after["patient_ids"] == sorted(members)

    missing = client.get("/fhir/Group/site-999999/$export", **ASYNC, **bearer(token))
    assert missing.status_code == 404
    outside = client.get(
        f"/fhir/Group/site-{site.pk}/$export", {"_type": "Location"}, **ASYNC, **bearer(token)
    )
    assert outside.status_code == 400
    everyone = kick_off(client, token, "/fhir/Patient/$export")
    finish(everyone)
    types = {e["type"] for e in manifest(client, token, everyone)["output"]}
    assert "Patient" in types and not types & {"Practitioner", "Organization", "Location"}


def test_cancel_stops_the_job_and_removes_its_files(ehr, client, exports):
    token = ehr.token(client, "system/*.rs")
    queued = kick_off(client, token, _type="Patient")
    assert client.delete(queued, **bearer(token)).status_code == 202
    finish(queued)  # the worker finds it cancelled and writes nothing
    assert client.get(queued, **bearer(token)).status_code == 404
    assert client.delete(queued, **bearer(token)).status_code == 404

    done = kick_off(client, token, _type="Patient")
    finish(done)
    url = manifest(client, token, done)["output"][0]["url"]
    job = BulkExport.objects.get(state=ExportState.COMPLETE)
    assert (exports / str(job.pk) / "Patient.ndjson").is_file()
    assert client.delete(done, **bearer(token)).status_code == 202
    assert not (exports / str(job.pk)).exists()
    assert client.get(url.removeprefix("http://testserver"), **bearer(token)).status_code == 404
    assert AuditEntry.objects.filter(action="fhir.export_cancelled").count() == 2


def test_only_the_client_who_asked_may_see_or_download(ehr, api_clients, client):
    token = ehr.token(client, "system/*.rs")
    path = kick_off(client, token, _type="Patient")
    finish(path)
    url = manifest(client, token, path)["output"][0]["url"].removeprefix("http://testserver")
    other = api_clients(client_id="other-warehouse", scopes="system/*.rs", alg="ES384")
    stranger = other.token(client, "system/*.rs")
    assert client.get(path, **bearer(stranger)).status_code == 404
    assert client.get(url, **bearer(stranger)).status_code == 404
    assert client.delete(path, **bearer(stranger)).status_code == 404
    anonymous = client.get(url)
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"].startswith("Bearer")
    assert anonymous.json()["issue"][0]["code"] == "login"
    assert client.get(url, **bearer(token)).status_code == 200


def test_scopes_limit_what_is_exported(api_clients, exports, client):
    narrow = api_clients(client_id="patients-only", scopes="system/Patient.rs")
    token = narrow.token(client, "system/Patient.rs")
    refused = client.get("/fhir/$export", {"_type": "Observation"}, **ASYNC, **bearer(token))
    assert refused.status_code == 403
    assert refused.json()["issue"][0]["code"] == "forbidden"
    path = kick_off(client, token)
    finish(path)
    assert [e["type"] for e in manifest(client, token, path)["output"]] == ["Patient"]
    search_only = api_clients(client_id="search-only", scopes="system/*.s")
    weak = search_only.token(client, "system/*.s")
    assert client.get("/fhir/$export", **ASYNC, **bearer(weak)).status_code == 403
