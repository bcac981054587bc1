"""An independent FHIR client (fhirpy, from PyPI) against a live server: the backend-services token
flow over HTTP, an unauthorised scope refused, and a Bulk $export round trip."""

from __future__ import annotations

import json

import pytest
import requests
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import AuthorizationError, ForbiddenError

from kapstone.fhirapi.models import BulkExport
from kapstone.fhirapi.tasks import run_bulk_export
from kapstone.patients.models import Patient


@pytest.fixture
def fhir_exports(settings, tmp_path):
    settings.FHIR_EXPORT_DIR = tmp_path / "fhir-exports"


def test_fhirpy_exports_with_a_backend_services_token(
    live_server, clinic, api_clients, fhir_exports
):
    base = f"{live_server.url}/fhir"
    discovered = requests.get(f"{live_server.url}/.well-known/smart-configuration", timeout=30)
    assert discovered.json()["token_endpoint"] == f"{base}/auth/token"
    ehr = api_clients(client_id="live-ehr", scopes="system/Patient.rs", alg="ES384")
    token = ehr.token_over_http(live_server.url, "system/Patient.rs")

    fhir = SyncFHIRClient(
        base,
        authorization=f"Bearer {token}",
        extra_headers={"Prefer": "respond-async"},
    )
    with pytest.raises(ForbiddenError) as refused:
        fhir.execute("$export", method="get", params={"_type": "Observation"})
    assert json.loads(str(refused.value))["issue"][0]["code"] == "forbidden"

    started = fhir.execute("$export", method="get", params={"_type": "Patient"})
    assert started["resourceType"] == "OperationOutcome"
    job = BulkExport.objects.get()
    run_bulk_export.call(str(job.pk))
    manifest = fhir.execute(f"bulk/{job.pk}", method="get")
    assert manifest["requiresAccessToken"] is True
    [output] = manifest["output"]
    assert output["type"] == "Patient" and output["count"] == Patient.objects.count()

    got = requests.get(output["url"], headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert got.status_code == 200 and got.headers["Content-Type"] == "application/fhir+ndjson"
    ids = {json.loads(line)["id"] for line in got.text.splitlines()}
    assert ids == {str(pk) for pk in Patient.objects.values_list("pk", flat=True)}

    stranger = SyncFHIRClient(base, authorization="Bearer not-a-token")
    with pytest.raises(AuthorizationError):
        stranger.execute(f"bulk/{job.pk}", method="get")
