"""Condition: the presenting diagnoses of the intake in force (the patient's latest complete intake
version), after US Core Condition (``problem-list-item``). Kapstone records them as the intake's
presenting conditions, not coded diagnoses: they are coded in Kapstone's own system (no SNOMED CT or
ICD-10 code is verified in the clinical reference) and ``provisional``.

One source per presenting condition, so each row is one resource; the id is the condition's key and
the intake version's (``ptsd-41``) and follows the intake in force.
"""

from __future__ import annotations

from django.db.models import CharField, Exists, OuterRef, QuerySet, TextField
from django.db.models.functions import Cast

from kapstone.clinical.eligibility.facts import PresentingCondition
from kapstone.fhirapi.registry import Resource, SearchParam, Source, kind
from kapstone.fhirapi.resources.common import (
    ID,
    LAST_UPDATED,
    PATIENT,
    US_CORE,
    fixed,
    instant,
    patient_ref,
    with_meta,
)
from kapstone.intake.models import IntakeVersion

PROFILE = f"{US_CORE}/us-core-condition"
CONDITION_SYSTEM = "urn:kapstone:presenting-condition"
CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"

_KEYS = {
    PresentingCondition.MAJOR_DEPRESSION: ("mdd", "Major depression"),
    PresentingCondition.GENERALISED_ANXIETY: ("gad", "Generalised anxiety"),
    PresentingCondition.PANIC_AGORAPHOBIA: ("panic", "Panic disorder / agoraphobia"),
    PresentingCondition.SOCIAL_ANXIETY: ("social-anxiety", "Social anxiety"),
    PresentingCondition.PTSD: ("ptsd", "Post-traumatic stress disorder"),
}


def _in_force() -> QuerySet[IntakeVersion]:
    later = IntakeVersion.objects.filter(
        patient_id=OuterRef("patient_id"), complete=True, pk__gt=OuterRef("pk")
    )
    return (
        IntakeVersion.objects.filter(complete=True)
        .exclude(Exists(later))
        .annotate(conditions=Cast(Cast("facts__presenting_conditions", TextField()), CharField()))
        .order_by("pk")
    )


def _source(condition: PresentingCondition) -> Source:
    key, label = _KEYS[condition]

    def rows() -> QuerySet[IntakeVersion]:
        return _in_force().filter(**{"conditions__contains": f'"{condition.value}"'})

    def build(intake: IntakeVersion) -> Resource:
        resource: Resource = {
            "resourceType": "Condition",
            "id": f"{key}-{intake.pk}",
            "clinicalStatus": {"coding": [{"system": CLINICAL, "code": "active"}]},
            "verificationStatus": {"coding": [{"system": VERIFICATION, "code": "provisional"}]},
            "category": [
                {
                    "coding": [
                        {
                            "system": CATEGORY,
                            "code": "problem-list-item",
                            "display": "Problem List Item",
                        }
                    ]
                }
            ],
            "code": {
                "coding": [{"system": CONDITION_SYSTEM, "code": condition.value}],
                "text": label,
            },
            "subject": patient_ref(intake.patient_id),
            "recordedDate": instant(intake.saved_at),
        }
        if intake.saved_by_id is not None:
            resource["recorder"] = {"reference": f"Practitioner/{intake.saved_by_id}"}
        return with_meta(resource, intake.saved_at, PROFILE)

    return Source(
        key=key,
        rows=rows,
        build=build,
        updated="saved_at",
        patient="patient_id",
        tokens={
            "code": fixed(CONDITION_SYSTEM, condition.value),
            "category": fixed(CATEGORY, "problem-list-item"),
        },
    )


KIND = kind(
    "Condition",
    sources=[_source(c) for c in PresentingCondition],
    search_params=[
        ID,
        LAST_UPDATED,
        PATIENT,
        SearchParam("code", "token", f"A presenting condition ({CONDITION_SYSTEM})."),
        SearchParam("category", "token", "problem-list-item."),
    ],
    in_patient_compartment=True,
    profile=PROFILE,
    includes=["Condition:patient"],
    documentation="The presenting conditions of the intake in force.",
)
