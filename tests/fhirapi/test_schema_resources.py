"""Every resource type the API serves validates against HL7's official R4 JSON Schema, for every
resource of a small demo clinic, and no psychotherapy process note's text is in any of them."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from kapstone.fhirapi import reading as selectors
from kapstone.fhirapi import registry
from tests.conftest import kept_for_the_module
from tests.fhir_schema import load_schema, schema_errors, validators_for
from tests.fhirapi.clinic_support import BASE, FhirClinic, build_fhir_clinic, everything


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker):
    with kept_for_the_module(django_db_blocker):
        clinic = build_fhir_clinic()
        yield clinic, {name: everything(kind) for name, kind in registry.KINDS.items()}


@pytest.fixture
def clinic(built, db) -> FhirClinic:
    return built[0]


@pytest.fixture(scope="module")
def validators() -> dict[str, jsonschema.Draft6Validator]:
    return validators_for(load_schema(), [*registry.KINDS, "Bundle"])


@pytest.fixture
def served(built, db) -> dict[str, list[dict[str, Any]]]:
    return built[1]


def test_every_kind_serves_resources_that_validate(served, validators):
    problems = {}
    for name, resources in served.items():
        assert resources, f"the demo clinic has no {name}"
        for resource in resources:
            assert resource["resourceType"] == name
            found = schema_errors(validators, resource)
            if found:
                problems[f"{name}/{resource['id']}"] = found[:3]
    assert problems == {}


def test_each_source_of_a_kind_is_served(served):
    """Every table behind a kind holds rows in the demo, so each builder is validated above."""
    for name, kind in registry.KINDS.items():
        ids = {r["id"] for r in served[name]}
        for source in kind.sources:
            if source.key in {"social-anxiety", "panic", "gad", "ptsd"}:
                continue  # presenting conditions the small demo may not have
            assert any(kind.source_for(i) and kind.source_for(i)[0] is source for i in ids), (
                f"{name} has no resource from source {source.key!r}"
            )


def test_read_gives_what_search_found(served, clinic):
    for name, kind in registry.KINDS.items():
        first = served[name][0]
        read, _ = selectors.read(kind, first["id"])
        assert read == first


def test_a_search_bundle_validates(clinic, validators):
    answer = selectors.search_page(
        registry.KINDS["Observation"],
        [("_count", "5"), ("_include", "Observation:patient")],
        lenient=False,
        base=BASE,
    )
    assert schema_errors(validators, answer.bundle) == []
    modes = {e["search"]["mode"] for e in answer.bundle["entry"]}
    assert modes == {"match", "include"}


def test_no_process_note_text_leaves(served, clinic):
    from kapstone.integration.models import ProcessNote

    texts = list(ProcessNote.objects.values_list("text", flat=True))
    assert clinic.process_note_text in texts
    dumped = json.dumps(served)
    for text in texts:
        assert text not in dumped
    for name, kind in registry.KINDS.items():
        dumped_export = json.dumps(list(kind.export(patient_ids=None, since=None)))
        assert clinic.process_note_text not in dumped_export, name


def test_no_private_free_text_leaves(served, clinic):
    """Integration notes' narratives and the plan's preparation and relapse-prevention text (the
    patient's own words) are not served either."""
    from kapstone.integration.models import IntegrationNote
    from kapstone.plans.models import TreatmentPlan

    private = [*IntegrationNote.objects.values_list("narrative", flat=True)]
    for field in ("prep_intentions", "prep_fears", "prep_expectations", "relapse_warning_signs"):
        private += TreatmentPlan.objects.values_list(field, flat=True)
    private = [text for text in private if len(text) > 20]
    assert private, "the demo clinic writes such text"
    dumped = json.dumps(served)
    assert [text for text in private if text in dumped] == []


def test_export_yields_what_search_serves(served, clinic):
    for name, kind in registry.KINDS.items():
        exported = list(kind.export(patient_ids=None, since=None))
        assert sorted(r["id"] for r in exported) == sorted(r["id"] for r in served[name])
