"""SMART Backend Services: discovery, the token endpoint's checks, and tokens in use."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from django.http import HttpRequest
from django.test import RequestFactory
from joserfc.jwk import OctKey

from kapstone.audit.models import AuditEntry
from kapstone.fhirapi.access import audit_api_read, authorise
from kapstone.fhirapi.models import AccessToken, UsedAssertion
from kapstone.fhirapi.outcome import FhirProblem


def _error(response) -> str:
    return json.loads(response.content)["error"]


def test_discovery_names_the_token_endpoint_and_the_algorithms(client):
    got = client.get("/.well-known/smart-configuration")
    assert got.status_code == 200
    body = got.json()
    assert body["token_endpoint"] == "http://testserver/fhir/auth/token"
    assert body["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert body["token_endpoint_auth_signing_alg_values_supported"] == ["RS384", "ES384"]
    assert body["grant_types_supported"] == ["client_credentials"]
    assert body["capabilities"] == ["client-confidential-asymmetric"]
    assert "system/*.rs" in body["scopes_supported"]


@pytest.mark.parametrize("alg", ["RS384", "ES384"])
def test_a_signed_assertion_gets_a_short_lived_hashed_token(api_clients, client, alg):
    ehr = api_clients(alg=alg, scopes="system/*.rs")
    got = ehr.request_token(client, "system/Patient.rs system/Observation.r")
    assert got.status_code == 200, got.content
    assert got["Cache-Control"] == "no-store"
    body = got.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 300
    assert body["scope"] == "system/Patient.rs system/Observation.r"
    stored = AccessToken.objects.get()
    assert body["access_token"] not in stored.token_hash and len(stored.token_hash) == 64
    assert stored.expires_at - stored.issued_at == dt.timedelta(minutes=5)


def test_a_replayed_jti_is_refused(api_clients, client):
    ehr = api_clients()
    first = ehr.request_token(client, "system/*.rs", jti="once-only")
    assert first.status_code == 200
    again = ehr.request_token(client, "system/*.rs", jti="once-only")
    assert again.status_code == 400 and _error(again) == "invalid_grant"
    assert UsedAssertion.objects.filter(jti="once-only").count() == 1
    assert AccessToken.objects.count() == 1


@pytest.mark.parametrize(
    "spoil",
    [
        {"expires_in": -10},  # expired
        {"expires_in": 3600},  # more than five minutes ahead
        {"aud": "https://elsewhere.example/token"},
        {"kid": "no-such-key"},
        {"iss": "someone-else"},
        {"sub": "someone-else"},
    ],
    ids=["expired", "exp-too-far", "wrong-aud", "unknown-kid", "wrong-iss", "wrong-sub"],
)
def test_a_bad_assertion_is_refused_as_invalid_client(api_clients, client, spoil):
    ehr = api_clients()
    got = ehr.request_token(client, "system/*.rs", **spoil)
    assert got.status_code == 401, got.content
    assert _error(got) == "invalid_client"
    assert not AccessToken.objects.exists()


def test_hs256_and_none_are_refused(api_clients, client):
    ehr = api_clients()
    secret = OctKey.generate_key(256)
    hs = ehr.request_token(client, "system/*.rs", alg="HS256", key=secret)
    assert hs.status_code == 401 and _error(hs) == "invalid_client"
    # alg "none": a header and claims with an empty signature.
    form = ehr.token_form("system/*.rs")
    _, claims, _ = form["client_assertion"].split(".")

    none_header = base64.urlsafe_b64encode(b'{"alg":"none","kid":"rs384-test-key"}').rstrip(b"=")
    form["client_assertion"] = f"{none_header.decode()}.{claims}."
    got = client.post("/fhir/auth/token", form)
    assert got.status_code == 401 and _error(got) == "invalid_client"
    # A right header over a signature of other bytes.
    form = ehr.token_form("system/*.rs")
    other = ehr.token_form("system/*.rs")["client_assertion"].split(".")[2]
    form["client_assertion"] = ".".join([*form["client_assertion"].split(".")[:2], other])
    forged = client.post("/fhir/auth/token", form)
    assert forged.status_code == 401 and _error(forged) == "invalid_client"
    assert not AccessToken.objects.exists()


def test_a_scope_beyond_the_clients_is_invalid_scope(api_clients, client):
    ehr = api_clients(scopes="system/Patient.rs system/Observation.r")
    wider = ehr.request_token(client, "system/Observation.rs")
    assert wider.status_code == 400 and _error(wider) == "invalid_scope"
    everything = ehr.request_token(client, "system/*.rs")
    assert everything.status_code == 400 and _error(everything) == "invalid_scope"
    assert ehr.request_token(client, "system/Patient.read").status_code == 200


def test_wrong_grant_or_assertion_type_is_refused(api_clients, client):
    ehr = api_clients()
    form = ehr.token_form("system/*.rs") | {"grant_type": "password"}
    assert _error(client.post("/fhir/auth/token", form)) == "unsupported_grant_type"
    form = ehr.token_form("system/*.rs") | {"client_assertion_type": "basic"}
    assert _error(client.post("/fhir/auth/token", form)) == "invalid_request"
    assert client.get("/fhir/auth/token").status_code == 405


def _request(token: str | None) -> HttpRequest:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return RequestFactory().get("/fhir/Patient", **headers)


def test_authorise_checks_token_expiry_and_scopes(api_clients, client):
    ehr = api_clients(scopes="system/Patient.rs system/Observation.read system/*.s")
    token = ehr.token(client, "system/Patient.rs system/Observation.read system/*.s")
    who = authorise(_request(token), resource_type="Patient", interaction="read")
    assert who.client_id == ehr.client_id and who.label == f"Test EHR {ehr.client_id}"
    assert authorise(_request(token), resource_type="Observation", interaction="read")
    assert authorise(_request(token), resource_type="Condition", interaction="search")
    with pytest.raises(FhirProblem) as refused:
        authorise(_request(token), resource_type="Condition", interaction="read")
    assert refused.value.status == 403 and refused.value.code == "forbidden"
    assert authorise(_request(token), resource_type="Patient", interaction="export")
    for bad in (None, "not-a-token"):
        with pytest.raises(FhirProblem) as unknown:
            authorise(_request(bad), resource_type="Patient", interaction="read")
        assert unknown.value.status == 401 and unknown.value.code == "login"
    # After its five minutes the token is refused.
    AccessToken.objects.update(expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    with pytest.raises(FhirProblem) as expired:
        authorise(_request(token), resource_type="Patient", interaction="read")
    assert expired.value.status == 401


def test_the_token_check_is_one_query(api_clients, client, django_assert_num_queries):
    ehr = api_clients()
    token = ehr.token(client, "system/*.rs")
    request = _request(token)
    with django_assert_num_queries(1):
        authorise(request, resource_type="Patient", interaction="search")


def test_an_api_read_is_audited_with_the_client(api_clients, client, clinic):
    ehr = api_clients()
    token = ehr.token(client, "system/*.rs")
    who = authorise(_request(token), resource_type="Patient", interaction="read")
    patient = clinic.on_team
    audit_api_read(
        caller=who,
        resource_type="Patient",
        interaction="read",
        resource_ids=[str(patient.pk)],
        patient_ids=[patient.pk],
        query="",
    )
    row = AuditEntry.objects.get(action="fhir.read")
    assert row.patient_id == patient.pk and row.actor_id is None
    assert ehr.client_id in row.summary and row.after["client_id"] == ehr.client_id
    assert row.after["patient_ids"] == [patient.pk]
