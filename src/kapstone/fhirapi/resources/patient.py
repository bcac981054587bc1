"""Patient, after US Core Patient: the registry's demographics. The MRN is the record's
``identifier`` (a business identifier inside the body), never the id in a URL, which is the row's
key."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Q, QuerySet

from kapstone.fhirapi.registry import DatePath, Resource, SearchParam, Source, Token, kind
from kapstone.fhirapi.resources.common import (
    ID,
    LAST_UPDATED,
    US_CORE,
    drop_empty,
    ref,
    with_meta,
)
from kapstone.patients.models import Patient

PROFILE = f"{US_CORE}/us-core-patient"
BIRTH_SEX = f"{US_CORE}/us-core-birthsex"
GENDER_SYSTEM = "http://hl7.org/fhir/administrative-gender"
MRN_SYSTEM = "urn:kapstone:mrn"  # as kapstone.outcomes.exports names it
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"

# Kapstone records sex assigned at birth; FHIR's gender is administrative (intersex: "other").
_GENDER = {"female": "female", "male": "male", "intersex": "other", "unknown": "unknown"}
_BIRTH_SEX = {"female": "F", "male": "M", "unknown": "UNK"}  # US Core's value set has no intersex


def rows() -> QuerySet[Patient]:
    return Patient.objects.order_by("pk")


def build(patient: Patient) -> Resource:
    extension: list[dict[str, Any]] = []
    if patient.sex_at_birth in _BIRTH_SEX:
        extension.append({"url": BIRTH_SEX, "valueCode": _BIRTH_SEX[patient.sex_at_birth]})
    names: list[dict[str, Any]] = [
        {"use": "official", "family": patient.family_name, "given": [patient.given_name]}
    ]
    if patient.preferred_name:
        names.append({"use": "usual", "given": [patient.preferred_name]})
    telecom = [
        {"system": system, "value": value, "use": "home"}
        for system, value in (("phone", patient.phone), ("email", patient.email))
        if value
    ]
    contact: list[dict[str, Any]] = []
    if patient.emergency_contact_name:
        contact.append(
            drop_empty(
                {
                    "relationship": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/v2-0131",
                                    "code": "C",
                                }
                            ],
                            "text": patient.emergency_contact_relationship or "Emergency contact",
                        }
                    ],
                    "name": {"text": patient.emergency_contact_name},
                    "telecom": [{"system": "phone", "value": patient.emergency_contact_phone}]
                    if patient.emergency_contact_phone
                    else [],
                }
            )
        )
    resource = drop_empty(
        {
            "resourceType": "Patient",
            "id": str(patient.pk),
            "extension": extension,
            "identifier": [
                {
                    "use": "usual",
                    "type": {
                        "coding": [{"system": IDENTIFIER_TYPE, "code": "MR"}],
                        "text": "Medical record number",
                    },
                    "system": MRN_SYSTEM,
                    "value": patient.mrn,
                }
            ],
            "active": True,
            "name": names,
            "telecom": telecom,
            "gender": _GENDER.get(patient.sex_at_birth, "unknown"),
            "birthDate": patient.date_of_birth.isoformat(),
            "address": [{"use": "home", "text": patient.address}] if patient.address else [],
            "contact": contact,
            "generalPractitioner": [ref("Practitioner", patient.prescriber_id)]
            if patient.prescriber_id
            else [],
            "managingOrganization": ref("Organization", patient.home_site_id),
        }
    )
    return with_meta(resource, patient.registered_at, PROFILE)


def _gender(tokens: Sequence[Token]) -> Q | bool:
    """Searching a gender finds the patients whose sex at birth is shown as it."""
    wanted = [
        sex
        for sex, shown in _GENDER.items()
        if any(t.matches(GENDER_SYSTEM, shown) for t in tokens)
    ]
    return Q(sex_at_birth__in=wanted) if wanted else False


SOURCE = Source(
    key="",
    rows=rows,
    build=build,
    updated="registered_at",
    patient="pk",
    dates={"birthdate": DatePath("date_of_birth", is_date=True)},
    tokens={"gender": _gender},
)

KIND = kind(
    "Patient",
    sources=[SOURCE],
    search_params=[
        ID,
        LAST_UPDATED,
        SearchParam("gender", "token", "Administrative gender (from sex at birth)."),
        SearchParam("birthdate", "date", "Date of birth (prefixes eq, lt, le, gt, ge)."),
    ],
    in_patient_compartment=True,
    profile=PROFILE,
    documentation="The patient registry's demographics; the MRN is an identifier in the body.",
)
