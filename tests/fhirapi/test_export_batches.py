"""Bulk ``$export`` reads in batches: its queries grow with the batches, never with the rows (no
query per row, however a builder reaches the session, patient, product or lot), at system level and
for a Group's patients taken a slice at a time; and what it exports is what read and search serve."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kapstone.fhirapi import registry
from kapstone.patients.models import Patient
from tests.conftest import kept_for_the_module
from tests.fhirapi.clinic_support import FhirClinic, build_fhir_clinic, everything


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker):
    with kept_for_the_module(django_db_blocker):
        clinic = build_fhir_clinic()
        yield clinic, {name: everything(kind) for name, kind in registry.KINDS.items()}


@pytest.fixture
def clinic(built, db) -> FhirClinic:
    return built[0]


@pytest.fixture
def served(built, db) -> dict[str, list[dict[str, Any]]]:
    return built[1]


def _export(kind: registry.ResourceKind, patient_ids: list[int] | None) -> tuple[int, int]:
    """How many resources the kind exports, and in how many queries."""
    with CaptureQueriesContext(connection) as queries:
        count = sum(1 for _ in kind.export(patient_ids=patient_ids, since=None))
    return count, len(queries)


# A Group names its members, read with one query a group (there are a handful: sites, programs).
SOURCED = [name for name, kind in registry.KINDS.items() if kind.sources and name != "Group"]


@pytest.mark.parametrize("name", SOURCED)
def test_system_export_queries_do_not_grow_with_rows(clinic, monkeypatch, name):
    kind = registry.KINDS[name]
    monkeypatch.setattr(registry, "EXPORT_BATCH", 10_000)
    count, queries = _export(kind, None)
    assert queries <= len(kind.sources), (name, count, queries)  # one query a source
    monkeypatch.setattr(registry, "EXPORT_BATCH", 2)
    again, queries = _export(kind, None)
    assert again == count
    assert queries <= len(kind.sources) + count // 2, (name, count, queries)


@pytest.mark.parametrize("name", [n for n in SOURCED if registry.KINDS[n].in_patient_compartment])
def test_group_export_queries_grow_with_patient_slices_not_rows(clinic, monkeypatch, name):
    kind = registry.KINDS[name]
    everyone = list(Patient.objects.values_list("pk", flat=True))
    assert len(everyone) >= 2
    monkeypatch.setattr(registry, "EXPORT_BATCH", 10_000)
    count, queries = _export(kind, everyone)
    assert count > 0, name
    assert queries <= len(kind.sources), (name, count, queries)  # every patient in one slice
    one, queries_for_one = _export(kind, everyone[:1])
    assert one <= count and queries_for_one == queries  # fewer rows, the same queries
    monkeypatch.setattr(registry, "EXPORT_PATIENTS", 1)
    sliced, queries = _export(kind, everyone)
    assert sliced == count
    assert queries <= len(kind.sources) * len(everyone), (name, count, queries)


def test_export_serves_exactly_what_search_serves(served, monkeypatch):
    """Batches and slices change how rows are read, never a resource: small ones, to cross their
    edges."""
    monkeypatch.setattr(registry, "EXPORT_BATCH", 3)
    monkeypatch.setattr(registry, "EXPORT_PATIENTS", 2)
    everyone = list(Patient.objects.values_list("pk", flat=True))
    for name, kind in registry.KINDS.items():
        by_id = {r["id"]: r for r in served[name]}
        exported = list(kind.export(patient_ids=None, since=None))
        assert len(exported) == len(by_id), name
        assert all(r == by_id[r["id"]] for r in exported), name
        if kind.in_patient_compartment:
            for_group = list(kind.export(patient_ids=everyone, since=None))
            assert sorted(r["id"] for r in for_group) == sorted(by_id), name
            assert all(r == by_id[r["id"]] for r in for_group), name
