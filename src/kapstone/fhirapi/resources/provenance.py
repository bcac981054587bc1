"""Provenance: who signed what, when: a treatment plan revision's signature (``plan-<signature>``,
target the CarePlan) and a chair-side record's (``chairside-<record>``, target the dosing session's
Encounter)."""

from __future__ import annotations

from django.db.models import F, QuerySet

from kapstone.chairside.models import ChairsideRecord
from kapstone.fhirapi.registry import Resource, Source, kind
from kapstone.fhirapi.resources.common import ID, LAST_UPDATED, PATIENT, US_CORE, instant, with_meta
from kapstone.plans.models import PlanSignature

PROFILE = f"{US_CORE}/us-core-provenance"
AGENT_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
ACTIVITY = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"


def _provenance(resource_id: str, target: str, at: object, signer: int) -> Resource:
    return {
        "resourceType": "Provenance",
        "id": resource_id,
        "target": [{"reference": target}],
        "recorded": instant(at),  # type: ignore[arg-type]
        "activity": {"coding": [{"system": ACTIVITY, "code": "CREATE"}], "text": "Signed"},
        "agent": [
            {
                "type": {"coding": [{"system": AGENT_TYPE, "code": "author"}]},
                "who": {"reference": f"Practitioner/{signer}"},
            }
        ],
    }


def _plans() -> QuerySet[PlanSignature]:
    # The patient as a column, not the whole plan joined (which the builder does not read).
    return PlanSignature.objects.annotate(fhir_patient=F("plan__patient_id")).order_by("pk")


def build_plan(signature: PlanSignature) -> Resource:
    resource = _provenance(
        f"plan-{signature.pk}",
        f"CarePlan/{signature.plan_id}",
        signature.signed_at,
        signature.signed_by_id,
    )
    return with_meta(resource, signature.signed_at, PROFILE)


def _records() -> QuerySet[ChairsideRecord]:
    return (
        ChairsideRecord.objects.filter(signed_at__isnull=False)
        .annotate(fhir_patient=F("session__patient_id"))
        .order_by("pk")
    )


def build_record(record: ChairsideRecord) -> Resource:
    assert record.signed_at is not None and record.signed_by_id is not None
    resource = _provenance(
        f"chairside-{record.pk}",
        f"Encounter/dosing-{record.session_id}",
        record.signed_at,
        record.signed_by_id,
    )
    return with_meta(resource, record.signed_at, PROFILE)


PLANS = Source(
    key="plan",
    rows=_plans,
    build=build_plan,
    updated="signed_at",
    patient="plan__patient_id",
    patient_value="fhir_patient",
)
RECORDS = Source(
    key="chairside",
    rows=_records,
    build=build_record,
    updated="signed_at",
    patient="session__patient_id",
    patient_value="fhir_patient",
)

KIND = kind(
    "Provenance",
    sources=[PLANS, RECORDS],
    search_params=[ID, LAST_UPDATED, PATIENT],
    in_patient_compartment=True,
    profile=PROFILE,
    documentation="Signatures: treatment plans and chair-side records.",
)
