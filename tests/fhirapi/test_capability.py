"""/fhir/metadata tells the truth: the types, interactions, search parameters and _include values
it lists are exactly those the URL map and the registry serve, and each listed parameter is
accepted while an unlisted one is refused."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import URLResolver, get_resolver, resolve

from kapstone.fhirapi import views
from kapstone.fhirapi.registry import KINDS
from kapstone.fhirapi.urls import ResourceTypeConverter
from tests.fhir_schema import load_schema, schema_errors, validators_for
from tests.fhirapi.support import bearer
from tests.shell.test_access_every_url import walk

SAMPLE = {"token": "x", "date": "ge2000-01-01", "reference": "Patient/1"}


@pytest.fixture
def statement(client) -> dict:
    response = client.get("/fhir/metadata")  # no token: clients read it before they have one
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    return json.loads(response.content)


@pytest.fixture
def token(api_clients, client) -> str:
    return api_clients(client_id="ehr-capability").token(client, "system/*.rs")


def test_it_validates_against_the_r4_schema(db, statement):
    validators = validators_for(load_schema(), ["CapabilityStatement"])
    assert statement["fhirVersion"] == "4.0.1"
    # The published R4 schema's FHIRVersion enum stops at 4.0.0 (it was generated before 4.0.1
    # was added to the value set): that one error, and no other, is the schema's own defect.
    errors = schema_errors(validators, statement)
    assert len(errors) == 1 and errors[0].startswith("fhirVersion: '4.0.1' is not one of")
    assert schema_errors(validators, {**statement, "fhirVersion": "4.0.0"}) == []


def test_it_lists_exactly_the_types_the_url_map_serves(db, statement):
    listed = {r["type"] for r in statement["rest"][0]["resource"]}
    matched = set(ResourceTypeConverter.regex.split("|"))
    assert listed == matched == set(KINDS)
    for name in listed:
        assert resolve(f"/fhir/{name}").func is views.search
        assert resolve(f"/fhir/{name}/some-id").func is views.read
    for name in ("Medication", "Immunization", "DocumentReference", "Questionnaire"):
        if name not in listed:
            assert resolve(f"/fhir/{name}").func is views.unknown


def test_the_fhir_urls_are_only_metadata_read_and_search(db):
    fhir = next(
        entry
        for entry in get_resolver().url_patterns
        if isinstance(entry, URLResolver) and entry.namespace == "fhir"
    )
    callbacks = {pattern.callback for pattern in fhir.url_patterns}
    assert callbacks == {views.metadata, views.search, views.read, views.unknown}


def test_interactions_are_read_and_search_type(db, statement):
    for resource in statement["rest"][0]["resource"]:
        assert [i["code"] for i in resource["interaction"]] == ["read", "search-type"]


def test_each_listed_search_parameter_is_accepted_and_no_other(db, statement, client, token):
    for resource in statement["rest"][0]["resource"]:
        name = resource["type"]
        listed = {p["name"]: p["type"] for p in resource["searchParam"]}
        assert set(listed) == KINDS[name].param_names
        for parameter, kind in listed.items():
            response = client.get(f"/fhir/{name}", {parameter: SAMPLE[kind]}, **bearer(token))
            assert response.status_code == 200, (name, parameter, response.content)
        for include in resource.get("searchInclude", []):
            response = client.get(f"/fhir/{name}", {"_include": include}, **bearer(token))
            assert response.status_code == 200, (name, include)
        assert set(resource.get("searchInclude", [])) == set(KINDS[name].includes)
        for unlisted in ("name-of-pet", "code" if "code" not in listed else "subject:missing"):
            response = client.get(f"/fhir/{name}", {unlisted: "x"}, **bearer(token))
            assert response.status_code == 400, (name, unlisted)
            assert json.loads(response.content)["resourceType"] == "OperationOutcome"
        response = client.get(f"/fhir/{name}", {"_include": "Nothing:here"}, **bearer(token))
        assert response.status_code == 400


def test_it_names_the_token_endpoint(db, statement):
    security = statement["rest"][0]["security"]
    uris = security["extension"][0]["extension"]
    assert re.fullmatch(r"http://testserver/fhir/auth/token", uris[0]["valueUri"])


def test_it_lists_the_export_operations_the_url_map_serves(db, statement):
    exports = {
        name.removeprefix("fhir_auth:")
        for name, pattern in walk(get_resolver())
        if "$export" in str(pattern.pattern)
    }
    assert exports == {"export_system", "export_patient", "export_group"}
    rest = statement["rest"][0]
    assert [o["name"] for o in rest["operation"]] == ["export"]
    with_operation = {r["type"] for r in rest["resource"] if r.get("operation")}
    assert with_operation == {"Patient", "Group"}
    assert resolve("/fhir/$export").url_name == "export_system"
    assert resolve("/fhir/Group/site-1/$export").url_name == "export_group"
