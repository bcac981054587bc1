"""A small demo clinic for the FHIR API's tests, with a process note whose text must never leave."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from kapstone.demo.generator import DemoClinic, build_demo_clinic
from kapstone.fhirapi import reading as selectors
from kapstone.fhirapi import registry
from kapstone.fhirapi.registry import Resource
from kapstone.integration.models import IntegrationSession
from kapstone.integration.services import write_process_note

SECRET = "Process-note marker 7f3a: countertransference, the patient's father"
BASE = "http://testserver/fhir"


@dataclass(frozen=True)
class FhirClinic:
    demo: DemoClinic
    process_note_text: str


def build_fhir_clinic() -> FhirClinic:
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
