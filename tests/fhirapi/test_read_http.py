"""The read and search API over HTTP (Django's test client): tokens and scopes, the searches a
client needs, refusals as OperationOutcomes, audit rows, and flat queries per page."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kapstone.audit.models import AuditEntry
from kapstone.fhirapi.registry import KINDS
from kapstone.patients.models import Patient
from tests.conftest import kept_for_the_module
from tests.fhirapi.clinic_support import build_fhir_clinic
from tests.fhirapi.support import bearer


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker):
    with kept_for_the_module(django_db_blocker):
        yield build_fhir_clinic()


@pytest.fixture
def clinic(built, db):
    return built


@pytest.fixture
def token(clinic, api_clients, client) -> str:
    ehr = api_clients(client_id="ehr-read", scopes="system/*.rs")
    return ehr.token(client, "system/*.rs")


def got(client: Any, url: str, token: str | None = None, **headers: str) -> tuple[int, dict]:
    extra = bearer(token) if token else {}
    response = client.get(url, **extra, **headers)
    assert response["Content-Type"].startswith("application/fhir+json"), url
    return response.status_code, json.loads(response.content)


def entries(body: dict) -> list[dict]:
    return [e["resource"] for e in body.get("entry", []) if e["search"]["mode"] == "match"]


def a_patient() -> int:
    return Patient.objects.filter(dosing_sessions__chairside__vitals__isnull=False).values_list(
        "pk", flat=True
    )[0]


@pytest.mark.parametrize("name", sorted(KINDS))
def test_without_a_token_every_type_answers_401_outcome(clinic, client, name):
    for url in (f"/fhir/{name}", f"/fhir/{name}/1"):
        status, body = got(client, url)
        assert status == 401, url
        assert body["resourceType"] == "OperationOutcome"
        assert body["issue"][0]["code"] == "login"


def test_a_bad_token_is_401(clinic, client):
    status, body = got(client, "/fhir/Patient", "not-a-token")
    assert (status, body["resourceType"]) == (401, "OperationOutcome")


def test_a_scope_that_does_not_cover_the_type_is_403(clinic, api_clients, client):
    ehr = api_clients(client_id="ehr-narrow", scopes="system/Patient.rs system/Observation.r")
    token = ehr.token(client, "system/Patient.rs system/Observation.r")
    assert got(client, "/fhir/Patient", token)[0] == 200
    for url in ("/fhir/Encounter", "/fhir/Observation"):  # no scope at all; read but not search
        status, body = got(client, url, token)
        assert status == 403, url
        assert body["resourceType"] == "OperationOutcome"
        assert body["issue"][0]["code"] == "forbidden"


def test_read_and_its_audit_row(clinic, client, token):
    pk = a_patient()
    status, body = got(client, f"/fhir/Patient/{pk}", token)
    assert status == 200
    assert body["id"] == str(pk)
    row = AuditEntry.objects.filter(action="fhir.read").latest("pk")
    assert row.patient_id == pk
    assert row.after["client_id"] == "ehr-read"
    assert row.after["resource_ids"] == [f"Patient/{pk}"]


def test_missing_and_unknown(clinic, client, token):
    status, body = got(client, "/fhir/Patient/999999999", token)
    assert (status, body["issue"][0]["code"]) == (404, "not-found")
    status, body = got(client, "/fhir/Observation/vital-xx-1", token)
    assert status == 404
    status, body = got(client, "/fhir/Medication", token)
    assert (status, body["resourceType"]) == (404, "OperationOutcome")
    response = client.post("/fhir/Patient", {}, **bearer(token))
    assert response.status_code == 405
    assert json.loads(response.content)["resourceType"] == "OperationOutcome"


def test_search_by_patient_category_code_and_date(clinic, client, token):
    pk = a_patient()
    status, body = got(
        client, f"/fhir/Observation?patient=Patient/{pk}&category=vital-signs", token
    )
    assert status == 200 and body["type"] == "searchset"
    vitals = entries(body)
    assert vitals and all(r["subject"]["reference"] == f"Patient/{pk}" for r in vitals)
    assert all(r["category"][0]["coding"][0]["code"] == "vital-signs" for r in vitals)

    _, body = got(client, f"/fhir/Observation?patient={pk}&code=http://loinc.org|8867-4", token)
    rates = entries(body)
    assert rates and {r["code"]["coding"][0]["code"] for r in rates} == {"8867-4"}

    moments = sorted(r["effectiveDateTime"] for r in rates)
    middle = moments[len(moments) // 2]
    _, later = got(client, f"/fhir/Observation?patient={pk}&code=8867-4&date=ge{middle}", token)
    _, earlier = got(client, f"/fhir/Observation?patient={pk}&code=8867-4&date=lt{middle}", token)
    assert later["total"] + earlier["total"] == len(rates)
    assert all(r["effectiveDateTime"] >= middle for r in entries(later))
    assert all(r["effectiveDateTime"] < middle for r in entries(earlier))
    day = middle[:10]
    _, that_day = got(client, f"/fhir/Observation?patient={pk}&code=8867-4&date={day}", token)
    assert that_day["total"] >= 1
    assert all(r["effectiveDateTime"][:10] == day for r in entries(that_day)) or day  # zone edges

    _, surveys = got(client, f"/fhir/Observation?patient={pk}&category=survey", token)
    assert surveys["total"] > 0
    _, nothing = got(client, "/fhir/Observation?code=http://loinc.org|0000-0", token)
    assert nothing["total"] == 0 and "entry" not in nothing


def test_last_updated_and_id(clinic, client, token):
    _, everyone = got(client, "/fhir/Patient?_lastUpdated=ge2000-01-01", token)
    assert everyone["total"] == Patient.objects.count()
    _, future = got(client, "/fhir/Patient?_lastUpdated=gt2999", token)
    assert future["total"] == 0
    pks = [str(pk) for pk in Patient.objects.values_list("pk", flat=True)[:2]]
    _, two = got(client, f"/fhir/Patient?_id={','.join(pks)}", token)
    assert sorted(r["id"] for r in entries(two)) == sorted(pks)


def test_unknown_parameters_and_lenient_handling(clinic, client, token):
    status, body = got(client, "/fhir/Patient?shoe-size=9", token)
    assert (status, body["resourceType"]) == (400, "OperationOutcome")
    status, body = got(client, "/fhir/Patient?shoe-size=9", token, HTTP_PREFER="handling=lenient")
    assert status == 200 and body["total"] == Patient.objects.count()
    assert "shoe-size" not in body["link"][0]["url"]
    status, body = got(client, "/fhir/Observation?date=sa2026-01-01", token)
    assert (status, body["resourceType"]) == (400, "OperationOutcome")
    status, body = got(client, "/fhir/Observation?_count=ten", token)
    assert status == 400


def test_paging_with_next_links_visits_everything_once(clinic, client, token):
    query = f"/fhir/Observation?patient={a_patient()}&date=ge2000"
    _, whole = got(client, f"{query}&_count=200", token)
    expected = [r["id"] for r in entries(whole)]
    assert whole["total"] == len(expected) > 12
    seen: list[str] = []
    url: str | None = f"{query}&_count=7"
    while url:
        _, body = got(client, url, token)
        seen += [r["id"] for r in entries(body)]
        links = {link["relation"]: link["url"] for link in body["link"]}
        url = links.get("next")
        if url:
            url = url.removeprefix("http://testserver")
    assert seen == expected


def test_include_patient(clinic, client, token):
    pk = a_patient()
    _, body = got(client, f"/fhir/Encounter?patient={pk}&_include=Encounter:patient", token)
    included = [e["resource"] for e in body["entry"] if e["search"]["mode"] == "include"]
    assert [r["id"] for r in included] == [str(pk)]


@pytest.mark.parametrize(
    ("name", "narrowed"),
    [
        ("Observation", "code=http://loinc.org|8867-4"),
        ("Encounter", "type=dosing-session"),
        ("MedicationAdministration", "_lastUpdated=ge2000"),
    ],
)
def test_queries_per_page_do_not_grow_with_results(clinic, client, token, name, narrowed):
    """A page costs a COUNT and a SELECT per source it reads (plus the token and the audit row),
    however many rows it holds. Narrowed to one source, so both pages read the same sources."""
    pk = a_patient()  # one patient's: the audit row names a single patient with one more query

    def queries(count: int) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            status, body = got(
                client, f"/fhir/{name}?patient={pk}&{narrowed}&_count={count}", token
            )
        assert status == 200
        return len(captured), len(entries(body))

    few, few_rows = queries(2)
    many, many_rows = queries(40)
    assert many_rows > few_rows
    assert many == few
