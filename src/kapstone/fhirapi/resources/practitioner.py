"""Practitioner: every member of staff (an account), after US Core Practitioner: name, the
professional credentials as a qualification, the role. No sign-in details, no email."""

from __future__ import annotations

from django.db.models import QuerySet

from kapstone.accounts.models import StaffUser
from kapstone.fhirapi.registry import Resource, Source, kind
from kapstone.fhirapi.resources.common import ID, LAST_UPDATED, US_CORE, drop_empty, with_meta

PROFILE = f"{US_CORE}/us-core-practitioner"
ROLE_SYSTEM = "urn:kapstone:staff-role"


def rows() -> QuerySet[StaffUser]:
    return StaffUser.objects.order_by("pk")


def build(user: StaffUser) -> Resource:
    name = drop_empty(
        {
            "use": "official",
            "text": user.get_full_name() or user.username,
            "family": user.last_name,
            "given": [user.first_name] if user.first_name else [],
        }
    )
    resource: Resource = {
        "resourceType": "Practitioner",
        "id": str(user.pk),
        "identifier": [{"system": "urn:kapstone:staff", "value": str(user.pk)}],
        "active": user.is_active,
        "name": [name],
    }
    qualifications = [
        {
            "code": {
                "coding": [{"system": ROLE_SYSTEM, "code": user.role}],
                "text": user.get_role_display(),
            }
        }
    ]
    if user.credentials:
        qualifications.append({"code": {"text": user.credentials}})
    resource["qualification"] = qualifications
    return with_meta(resource, user.date_joined, PROFILE)


SOURCE = Source(key="", rows=rows, build=build, updated="date_joined")

KIND = kind(
    "Practitioner",
    sources=[SOURCE],
    search_params=[ID, LAST_UPDATED],
    in_patient_compartment=False,
    profile=PROFILE,
    documentation="Every member of staff: name, role and credentials.",
)
