"""The administrator registers, changes and disables API clients; every change is audited."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from kapstone.audit.models import AuditEntry
from kapstone.errors import InputError
from kapstone.fhirapi.models import AccessToken, ApiClient
from kapstone.fhirapi.services import register_client
from tests.fhirapi.support import RegisteredClient, generate_key


def test_the_administrator_registers_a_client_that_then_gets_tokens(as_role, client):
    admin = as_role("administrator")
    page = admin.get(reverse("fhir_auth:clients"))
    assert page.status_code == 200 and b"Register a client" in page.content
    key = generate_key("ES384")
    posted = admin.post(
        reverse("fhir_auth:clients"),
        {
            "name": "Referring EHR",
            "client_id": "referring-ehr",
            "scopes": "system/Patient.rs  system/Observation.rs",
            "jwks": json.dumps(key.public_jwks()),
            "jwks_url": "",
        },
    )
    assert posted.status_code == 302, posted.content
    stored = ApiClient.objects.get(client_id="referring-ehr")
    assert stored.scopes == "system/Patient.rs system/Observation.rs" and stored.enabled
    row = AuditEntry.objects.get(action="fhir_client.registered")
    assert row.actor_label == "administrator" and row.after["client_id"] == "referring-ehr"
    listed = admin.get(reverse("fhir_auth:clients"))
    assert b"referring-ehr" in listed.content

    client.logout()
    ehr = RegisteredClient(client_id="referring-ehr", key=key, pk=stored.pk)
    assert ehr.request_token(client, "system/Patient.rs").status_code == 200


def test_other_roles_are_turned_away(as_role):
    for role in ("medical_director", "prescriber", "researcher"):
        assert as_role(role).get(reverse("fhir_auth:clients")).status_code == 403


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"client_id": "x"}, "client_id"),
        ({"scopes": "patient/*.read"}, "scopes"),
        ({"scopes": "system/Observation.rs?category=vital-signs"}, "scopes"),
        ({"jwks": '{"keys": []}'}, "jwks"),
        ({"jwks": "not json"}, "jwks"),
        ({"jwks": "", "jwks_url": ""}, "jwks"),
        ({"jwks": "", "jwks_url": "http://insecure.example/jwks"}, "jwks_url"),
        ({"private": True}, "jwks"),
        ({"hs": True}, "jwks"),
    ],
    ids=[
        "short-id",
        "patient-scope",
        "parameterised-scope",
        "empty-jwks",
        "not-json",
        "no-key",
        "http-url",
        "private-key",
        "symmetric-key",
    ],
)
def test_a_bad_registration_is_refused_and_writes_nothing(api_admin, change, field):
    key = generate_key("RS384")
    jwks = key.public_jwks()
    if change.pop("private", False):
        jwks = {"keys": [key.private.as_dict(private=True, kid=key.kid)]}
    if change.pop("hs", False):
        jwks = {"keys": [{"kty": "oct", "kid": "s", "k": "c2VjcmV0c2VjcmV0c2VjcmV0"}]}
    details = {
        "client_id": "good-id",
        "name": "EHR",
        "scopes": "system/*.rs",
        "jwks_json": json.dumps(jwks),
        "jwks_url": "",
    } | {("jwks_json" if k == "jwks" else k): v for k, v in change.items()}
    with pytest.raises(InputError) as refused:
        register_client(by=api_admin, now=api_admin.date_joined, **details)
    assert field in refused.value.errors
    assert not ApiClient.objects.exists()


def test_disabling_a_client_ends_its_tokens_at_once(api_clients, as_role, client):
    ehr = api_clients(client_id="to-disable")
    ehr.token(client, "system/*.rs")
    assert AccessToken.objects.count() == 1
    admin = as_role("administrator")
    stored = ApiClient.objects.get(pk=ehr.pk)
    posted = admin.post(
        reverse("fhir_auth:client", args=[ehr.pk]),
        {"name": stored.name, "scopes": stored.scopes, "jwks": json.dumps(stored.jwks)},
    )
    assert posted.status_code == 302
    stored.refresh_from_db()
    assert not stored.enabled and not AccessToken.objects.exists()
    changed = AuditEntry.objects.get(action="fhir_client.changed")
    assert changed.before == {"enabled": True} and changed.after == {"enabled": False}
    client.logout()
    refused = ehr.request_token(client, "system/*.rs")
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
