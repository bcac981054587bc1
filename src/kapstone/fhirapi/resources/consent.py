"""Consent: the informed consent to treatment recorded on a treatment plan revision (who gave it,
when, on which form version). The explanation's notes stay in Kapstone."""

from __future__ import annotations

from django.db.models import QuerySet

from kapstone.fhirapi.registry import Resource, Source, kind
from kapstone.fhirapi.resources.common import (
    ID,
    LAST_UPDATED,
    PATIENT,
    instant,
    patient_ref,
    with_meta,
)
from kapstone.plans.models import TreatmentPlan

SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CATEGORY = "urn:kapstone:consent-category"


def rows() -> QuerySet[TreatmentPlan]:
    return TreatmentPlan.objects.filter(consent_at__isnull=False).order_by("pk")


def build(plan: TreatmentPlan) -> Resource:
    assert plan.consent_at is not None
    form = plan.consent_form_version or "unversioned"
    resource: Resource = {
        "resourceType": "Consent",
        "id": str(plan.pk),
        "status": "active",
        "scope": {"coding": [{"system": SCOPE, "code": "treatment"}], "text": "Treatment"},
        "category": [
            {
                "coding": [{"system": CATEGORY, "code": "kap-treatment"}],
                "text": "Consent to ketamine-assisted treatment",
            }
        ],
        "patient": patient_ref(plan.patient_id),
        "dateTime": instant(plan.consent_at),
    }
    if plan.consent_relationship:
        resource["performer"] = [
            {"display": f"{plan.consent_given_by} ({plan.consent_relationship})"}
        ]
    else:
        resource["performer"] = [patient_ref(plan.patient_id)]
    resource["policyRule"] = {
        "coding": [{"system": "urn:kapstone:consent-form", "code": form}],
        "text": f"Kapstone consent form {form}",
    }
    return with_meta(resource, plan.consent_at)


SOURCE = Source(key="", rows=rows, build=build, updated="consent_at", patient="patient_id")

KIND = kind(
    "Consent",
    sources=[SOURCE],
    search_params=[ID, LAST_UPDATED, PATIENT],
    in_patient_compartment=True,
    includes=["Consent:patient"],
    documentation="Informed consent to treatment, as recorded on a treatment plan revision.",
)
