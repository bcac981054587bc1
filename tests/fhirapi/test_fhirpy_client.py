"""An independent FHIR client from PyPI (fhirpy) drives the API on a live server: a token from the
SMART Backend Services flow, reads, searches by patient, category, code and date, and paging
through the server's ``next`` links, and a scope that does not cover a type refused with 403."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import AuthorizationError, ForbiddenError

from kapstone.demo.generator import build_demo_clinic
from kapstone.patients.models import Patient


@pytest.mark.django_db(transaction=True)
def test_fhirpy_reads_searches_and_pages(live_server, api_clients):
    build_demo_clinic(patients=2, seed=17, today=timezone.localdate(), history_until=timezone.now())
    pk = (
        Patient.objects.filter(dosing_sessions__chairside__vitals__isnull=False)
        .values_list("pk", flat=True)
        .first()
    )
    assert pk is not None
    ehr = api_clients(client_id="ehr-fhirpy", scopes="system/*.rs")
    token = ehr.token_over_http(live_server.url, "system/*.rs")
    fhir = SyncFHIRClient(f"{live_server.url}/fhir", authorization=f"Bearer {token}")

    # read
    patient = fhir.reference("Patient", str(pk)).to_resource()
    assert patient["resourceType"] == "Patient" and patient["id"] == str(pk)

    # search by patient and category, paging through next links (7 a page)
    vitals = fhir.resources("Observation").search(patient=f"Patient/{pk}", category="vital-signs")
    paged = vitals.limit(7).fetch_all()
    assert len(paged) > 14 and len({r["id"] for r in paged}) == len(paged)
    assert all(r["subject"]["reference"] == f"Patient/{pk}" for r in paged)
    assert all(r["category"][0]["coding"][0]["code"] == "vital-signs" for r in paged)
    assert len(paged) == vitals.limit(1).fetch_raw()["total"]

    # by code (system|code) and by date with a prefix
    rates = (
        fhir.resources("Observation")
        .search(patient=f"Patient/{pk}", code="http://loinc.org|8867-4")
        .limit(200)
        .fetch()
    )
    assert rates and all(r["code"]["coding"][0]["code"] == "8867-4" for r in rates)
    assert [r["id"] for r in rates] == [r["id"] for r in paged if r["id"].startswith("vital-hr-")]
    middle = sorted(r["effectiveDateTime"] for r in rates)[len(rates) // 2]
    later = (
        fhir.resources("Observation")
        .search(patient=f"Patient/{pk}", code="8867-4", date__ge=middle)
        .limit(200)
        .fetch()
    )
    assert later and all(r["effectiveDateTime"] >= middle for r in later)
    assert len(later) < len(rates)

    # another type, and a first()
    dose = fhir.resources("MedicationAdministration").search(patient=f"Patient/{pk}").first()
    assert dose is not None and dose["subject"]["reference"] == f"Patient/{pk}"

    # a token whose scopes do not cover Encounter: 403 with an OperationOutcome
    narrow = api_clients(client_id="ehr-narrow", scopes="system/Patient.rs")
    narrow_token = narrow.token_over_http(live_server.url, "system/Patient.rs")
    refused = SyncFHIRClient(f"{live_server.url}/fhir", authorization=f"Bearer {narrow_token}")
    with pytest.raises(ForbiddenError) as forbidden:
        refused.resources("Encounter").search(patient=f"Patient/{pk}").fetch()
    outcome = json.loads(str(forbidden.value))
    assert (outcome["resourceType"], outcome["issue"][0]["code"]) == (
        "OperationOutcome",
        "forbidden",
    )
    # and none at all: 401
    anonymous = SyncFHIRClient(f"{live_server.url}/fhir")
    with pytest.raises(AuthorizationError) as unauthorised:
        anonymous.resources("Patient").fetch()
    outcome = json.loads(str(unauthorised.value))
    assert (outcome["resourceType"], outcome["issue"][0]["code"]) == ("OperationOutcome", "login")
