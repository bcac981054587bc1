"""Location: a site (``site-<pk>``) or a treatment room at one (``room-<pk>``, part of its site),
after US Core Location."""

from __future__ import annotations

from django.db.models import QuerySet

from kapstone.accounts.models import Room, Site
from kapstone.fhirapi.registry import Resource, Source, kind
from kapstone.fhirapi.resources.common import ID, US_CORE, drop_empty, with_meta

PROFILE = f"{US_CORE}/us-core-location"
LOCATION_TYPE = "http://terminology.hl7.org/CodeSystem/location-physical-type"


def _sites() -> QuerySet[Site]:
    return Site.objects.order_by("pk")


def _rooms() -> QuerySet[Room]:
    return Room.objects.select_related("site").order_by("pk")


def build_site(site: Site) -> Resource:
    resource = drop_empty(
        {
            "resourceType": "Location",
            "id": f"site-{site.pk}",
            "status": "active" if site.is_active else "inactive",
            "name": site.name,
            "mode": "instance",
            "telecom": [{"system": "phone", "value": site.phone, "use": "work"}]
            if site.phone
            else [],
            "address": {"use": "work", "text": site.address} if site.address else {},
            "physicalType": {
                "coding": [{"system": LOCATION_TYPE, "code": "si", "display": "Site"}]
            },
            "managingOrganization": {"reference": f"Organization/{site.pk}"},
        }
    )
    return with_meta(resource, None, PROFILE)


def build_room(room: Room) -> Resource:
    resource: Resource = {
        "resourceType": "Location",
        "id": f"room-{room.pk}",
        "status": "active" if room.is_active else "inactive",
        "name": f"{room.name}, {room.site.name}",
        "mode": "instance",
        "physicalType": {"coding": [{"system": LOCATION_TYPE, "code": "ro", "display": "Room"}]},
        "managingOrganization": {"reference": f"Organization/{room.site_id}"},
        "partOf": {"reference": f"Location/site-{room.site_id}"},
    }
    return with_meta(resource, None, PROFILE)


SITES = Source(key="site", rows=_sites, build=build_site, updated=None)
ROOMS = Source(key="room", rows=_rooms, build=build_room, updated=None)

KIND = kind(
    "Location",
    sources=[SITES, ROOMS],
    search_params=[ID],
    in_patient_compartment=False,
    profile=PROFILE,
    documentation="The clinic's sites and their treatment rooms.",
)
