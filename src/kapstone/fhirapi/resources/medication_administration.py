"""MedicationAdministration: each dose charted at the chair (one line of the administration record).

The drug is named by text from the route's facts (ketamine or esketamine), with the stock product's
name when one was drawn; the dose in mg (UCUM), the route as Kapstone names it, the lot number.
"""

from __future__ import annotations

from django.db.models import F, QuerySet

from kapstone.chairside.models import DoseAdministration
from kapstone.clinical.routes import Route
from kapstone.fhirapi.registry import DatePath, Resource, SearchParam, Source, kind
from kapstone.fhirapi.resources.common import (
    ID,
    LAST_UPDATED,
    PATIENT,
    UCUM,
    instant,
    patient_ref,
    with_meta,
)

ROUTE_SYSTEM = "urn:kapstone:route"


def rows() -> QuerySet[DoseAdministration]:
    # What the builder reads of the session, product and lot as columns: one model a row.
    return DoseAdministration.objects.annotate(
        fhir_patient=F("record__session__patient_id"),
        fhir_session=F("record__session_id"),
        fhir_product=F("product__name"),
        fhir_lot=F("lot__lot_number"),
    ).order_by("pk")


def _drug(route: str) -> str:
    try:
        return Route(route).facts.drug
    except ValueError:
        return "ketamine"


def build(dose: DoseAdministration) -> Resource:
    patient_pk: int = dose.fhir_patient  # type: ignore[attr-defined]
    session_pk: int = dose.fhir_session  # type: ignore[attr-defined]
    product: str | None = dose.fhir_product  # type: ignore[attr-defined]
    lot: str | None = dose.fhir_lot  # type: ignore[attr-defined]
    medication = {"text": product if dose.product_id is not None else _drug(dose.route)}
    try:
        route_text = Route(dose.route).label
    except ValueError:
        route_text = dose.route
    dosage: Resource = {
        "route": {"coding": [{"system": ROUTE_SYSTEM, "code": dose.route}], "text": route_text},
        "dose": {"value": float(dose.dose_mg), "unit": "mg", "system": UCUM, "code": "mg"},
    }
    if dose.rate_ml_per_hour is not None:
        dosage["rateQuantity"] = {
            "value": float(dose.rate_ml_per_hour),
            "unit": "mL/h",
            "system": UCUM,
            "code": "mL/h",
        }
    resource: Resource = {
        "resourceType": "MedicationAdministration",
        "id": str(dose.pk),
        "status": "completed",
        "medicationCodeableConcept": medication,
        "subject": patient_ref(patient_pk),
        "context": {"reference": f"Encounter/dosing-{session_pk}"},
    }
    if dose.stopped_at is not None:
        resource["effectivePeriod"] = {
            "start": instant(dose.started_at),
            "end": instant(dose.stopped_at),
        }
    else:
        resource["effectiveDateTime"] = instant(dose.started_at)
    performers = [{"actor": {"reference": f"Practitioner/{dose.given_by_id}"}}]
    if dose.witnessed_by_id is not None:
        performers.append(
            {
                "function": {"text": "Witness"},
                "actor": {"reference": f"Practitioner/{dose.witnessed_by_id}"},
            }
        )
    resource["performer"] = performers
    if dose.lot_id is not None:
        resource["note"] = [{"text": f"Lot {lot}"}]
    resource["dosage"] = dosage
    return with_meta(resource, dose.recorded_at)


SOURCE = Source(
    key="",
    rows=rows,
    build=build,
    updated="recorded_at",
    patient="record__session__patient_id",
    patient_value="fhir_patient",
    dates={"effective-time": DatePath("started_at")},
)

KIND = kind(
    "MedicationAdministration",
    sources=[SOURCE],
    search_params=[
        ID,
        LAST_UPDATED,
        PATIENT,
        SearchParam(
            "effective-time", "date", "When the dose was given (prefixes eq, lt, le, gt, ge)."
        ),
    ],
    in_patient_compartment=True,
    includes=["MedicationAdministration:patient"],
    documentation="Each dose charted at the chair.",
)
