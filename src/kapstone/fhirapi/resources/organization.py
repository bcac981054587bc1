"""Organization: each of the clinic's sites (the provider a patient's care is with), after US Core
Organization."""

from __future__ import annotations

from django.db.models import QuerySet

from kapstone.accounts.models import Site
from kapstone.fhirapi.registry import Resource, Source, kind
from kapstone.fhirapi.resources.common import ID, US_CORE, drop_empty, with_meta

PROFILE = f"{US_CORE}/us-core-organization"


def rows() -> QuerySet[Site]:
    return Site.objects.order_by("pk")


def build(site: Site) -> Resource:
    resource = drop_empty(
        {
            "resourceType": "Organization",
            "id": str(site.pk),
            "identifier": [{"system": "urn:kapstone:site", "value": str(site.pk)}],
            "active": site.is_active,
            "name": site.name,
            "telecom": [{"system": "phone", "value": site.phone, "use": "work"}]
            if site.phone
            else [],
            "address": [{"use": "work", "text": site.address}] if site.address else [],
        }
    )
    return with_meta(resource, None, PROFILE)


SOURCE = Source(key="", rows=rows, build=build, updated=None)

KIND = kind(
    "Organization",
    sources=[SOURCE],
    search_params=[ID],
    in_patient_compartment=False,
    profile=PROFILE,
    documentation="The clinic's sites as the organisations care is given by.",
)
