"""A small demo clinic for the FHIR API's tests, with a process note whose text must never leave."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from kapstone.accounts.models import Site, StaffUser
from kapstone.demo.generator import DemoClinic, build_demo_clinic
from kapstone.fhirapi import reading as selectors
from kapstone.fhirapi import registry
from kapstone.fhirapi.registry import Resource
from kapstone.integration.models import IntegrationSession
from kapstone.integration.services import write_process_note
from kapstone.patients.models import Patient
from tests.snapshots import built_once

SECRET = "Process-note marker 7f3a: countertransference, the patient's father"
BASE = "http://testserver/fhir"


@dataclass(frozen=True)
class FhirClinic:
    demo: DemoClinic
    process_note_text: str


def build_fhir_clinic() -> FhirClinic:
    """The four modules that use it share one build per worker (tests/snapshots.py): the later
    ones get its rows inserted again. A new day builds anew: the demo is built around today."""
    return built_once(
        ("fhir-clinic", timezone.localdate()),
        _build_fhir_clinic,
        to_refs=_refs,
        from_refs=_from_refs,
    )


def _refs(clinic: FhirClinic) -> tuple:
    demo = clinic.demo
    return (
        [site.pk for site in demo.sites],
        {key: user.pk for key, user in demo.staff.items()},
        [patient.pk for patient in demo.patients],
        list(demo.companion),
    )


def _from_refs(refs: tuple) -> FhirClinic:
    site_pks, staff_pks, patient_pks, companion = refs
    sites = Site.objects.in_bulk(site_pks)
    users = StaffUser.objects.in_bulk(list(staff_pks.values()))
    patients = Patient.objects.in_bulk(patient_pks)
    demo = DemoClinic(
        sites=[sites[pk] for pk in site_pks],
        staff={key: users[pk] for key, pk in staff_pks.items()},
        patients=[patients[pk] for pk in patient_pks],
        companion=list(companion),
    )
    return FhirClinic(demo=demo, process_note_text=SECRET)


def _build_fhir_clinic() -> FhirClinic:
    demo = build_demo_clinic(
        patients=3, seed=11, today=timezone.localdate(), history_until=timezone.now()
    )
    session = (
        IntegrationSession.objects.filter(therapist__isnull=False)
        .select_related("patient__therapist")
        .first()
    )
    assert session is not None, "the demo clinic has an integration session"
    patient = session.patient
    write_process_note(by=patient.therapist, patient=patient, text=SECRET)
    return FhirClinic(demo=demo, process_note_text=SECRET)


def everything(kind: registry.ResourceKind) -> list[Resource]:
    """Every resource of a kind, through search (pages of 200)."""
    found: list[Resource] = []
    offset = 0
    while True:
        answer = selectors.search_page(
            kind, [("_count", "200"), ("_offset", str(offset))], lenient=False, base=BASE
        )
        entries = answer.bundle.get("entry", [])
        found += [e["resource"] for e in entries]
        if len(entries) < 200:
            return found
        offset += 200
