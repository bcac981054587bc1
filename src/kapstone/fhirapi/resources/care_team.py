"""CareTeam: a patient's care team as the registry records it (prescriber, therapist, nurse), after
US Core CareTeam. Its id is the patient's."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from kapstone.fhirapi.registry import Resource, Source, kind
from kapstone.fhirapi.resources.common import (
    ID,
    LAST_UPDATED,
    PATIENT,
    US_CORE,
    patient_ref,
    with_meta,
)
from kapstone.patients.models import Patient

PROFILE = f"{US_CORE}/us-core-careteam"
ROLE_SYSTEM = "urn:kapstone:care-team-role"
_ROLES = (("prescriber", "Prescriber"), ("therapist", "Therapist"), ("nurse", "Nurse"))


def rows() -> QuerySet[Patient]:
    return Patient.objects.filter(
        Q(prescriber__isnull=False) | Q(therapist__isnull=False) | Q(nurse__isnull=False)
    ).order_by("pk")


def build(patient: Patient) -> Resource:
    participants = []
    for field, label in _ROLES:
        pk = getattr(patient, f"{field}_id")
        if pk is not None:
            participants.append(
                {
                    "role": [{"coding": [{"system": ROLE_SYSTEM, "code": field}], "text": label}],
                    "member": {"reference": f"Practitioner/{pk}"},
                }
            )
    resource: Resource = {
        "resourceType": "CareTeam",
        "id": str(patient.pk),
        "status": "active",
        "name": "Ketamine-assisted therapy care team",
        "subject": patient_ref(patient.pk),
        "participant": participants,
        "managingOrganization": [{"reference": f"Organization/{patient.home_site_id}"}],
    }
    return with_meta(resource, patient.registered_at, PROFILE)


SOURCE = Source(key="", rows=rows, build=build, updated="registered_at", patient="pk")

KIND = kind(
    "CareTeam",
    sources=[SOURCE],
    search_params=[ID, LAST_UPDATED, PATIENT],
    in_patient_compartment=True,
    profile=PROFILE,
    includes=["CareTeam:patient"],
    documentation="Each patient's prescriber, therapist and nurse.",
)
