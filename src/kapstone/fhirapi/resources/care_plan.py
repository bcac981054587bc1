"""CarePlan: each signed treatment plan revision, after US Core CarePlan. The newest signed revision
is ``active``; one a later revision superseded is ``revoked`` and the later one ``replaces`` it.

The plan's free text written with the patient (preparation: intentions, fears; relapse prevention)
is not served: it is the patient's own words from a psychotherapeutic conversation.
"""

from __future__ import annotations

from html import escape

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import QuerySet

from kapstone.fhirapi.registry import Resource, Source, kind
from kapstone.fhirapi.resources.common import (
    ID,
    LAST_UPDATED,
    PATIENT,
    US_CORE,
    instant,
    patient_ref,
    with_meta,
)
from kapstone.plans.models import TreatmentPlan

PROFILE = f"{US_CORE}/us-core-careplan"
CAREPLAN_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/careplan-category"
XHTML = "http://www.w3.org/1999/xhtml"


def rows() -> QuerySet[TreatmentPlan]:
    return (
        TreatmentPlan.objects.filter(signature__isnull=False)
        .select_related("signature", "program", "superseded_by__signature")
        .order_by("pk")
    )


def _superseded(plan: TreatmentPlan) -> bool:
    try:
        later = plan.superseded_by
    except ObjectDoesNotExist:
        return False
    try:
        return later.signature is not None
    except ObjectDoesNotExist:
        return False


def build(plan: TreatmentPlan) -> Resource:
    signature = plan.signature
    route = plan.route_value.label
    sessions = len(plan.dose_schedule)
    summary = (
        f"{plan.program.name} (revision {plan.revision}): {sessions} dosing sessions, {route}, "
        f"modalities {', '.join(m.label for m in plan.modality_values) or 'none chosen'}."
    )
    resource: Resource = {
        "resourceType": "CarePlan",
        "id": str(plan.pk),
        "text": {
            "status": "generated",
            "div": f'<div xmlns="{XHTML}"><p>{escape(summary)}</p></div>',
        },
        "identifier": [{"system": "urn:kapstone:program", "value": plan.program.ref}],
    }
    if plan.supersedes_id is not None:
        resource["replaces"] = [{"reference": f"CarePlan/{plan.supersedes_id}"}]
    resource |= {
        "status": "revoked" if _superseded(plan) else "active",
        "intent": "plan",
        "category": [{"coding": [{"system": CAREPLAN_CATEGORY, "code": "assess-plan"}]}],
        "title": plan.program.name,
        "description": summary,
        "subject": patient_ref(plan.patient_id),
        "created": instant(signature.signed_at),
        "author": {"reference": f"Practitioner/{signature.signed_by_id}"},
    }
    return with_meta(resource, signature.signed_at, PROFILE)


SOURCE = Source(
    key="",
    rows=rows,
    build=build,
    updated="signature__signed_at",
    patient="patient_id",
)

KIND = kind(
    "CarePlan",
    sources=[SOURCE],
    search_params=[ID, LAST_UPDATED, PATIENT],
    in_patient_compartment=True,
    profile=PROFILE,
    includes=["CarePlan:patient"],
    documentation="Each signed treatment plan revision (never the preparation's free text).",
)
