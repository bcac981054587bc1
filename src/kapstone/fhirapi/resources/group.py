"""Group: a program (every patient with a treatment plan on any version of it) or a site (its
patients by home site). Bulk ``$export`` at Group level exports a group's members.

A program's id is ``program-<pk>`` of its first version, so it stays the same as the program's
template gets new versions; a site's is ``site-<pk>``.
"""

from __future__ import annotations

from django.db.models import QuerySet

from kapstone.accounts.models import Site
from kapstone.fhirapi.registry import Resource, Source, kind
from kapstone.fhirapi.resources.common import ID, with_meta
from kapstone.patients.models import Patient
from kapstone.plans.models import ProgramTemplateVersion, TreatmentPlan

GROUP_KIND = "urn:kapstone:group-kind"


def _sites() -> QuerySet[Site]:
    return Site.objects.order_by("pk")


def _programs() -> QuerySet[ProgramTemplateVersion]:
    return ProgramTemplateVersion.objects.filter(supersedes__isnull=True).order_by("pk")


def _site_members(site_pk: int) -> list[int]:
    return list(
        Patient.objects.filter(home_site_id=site_pk).order_by("pk").values_list("pk", flat=True)
    )


def _program_members(first: ProgramTemplateVersion) -> list[int]:
    return list(
        TreatmentPlan.objects.filter(program__key=first.key)
        .order_by("patient_id")
        .values_list("patient_id", flat=True)
        .distinct()
    )


def _group(resource_id: str, what: str, name: str, members: list[int]) -> Resource:
    resource: Resource = {
        "resourceType": "Group",
        "id": resource_id,
        "identifier": [{"system": GROUP_KIND, "value": resource_id}],
        "active": True,
        "type": "person",
        "actual": True,
        "code": {"coding": [{"system": GROUP_KIND, "code": what}], "text": what.capitalize()},
        "name": name,
        "quantity": len(members),
    }
    if members:
        resource["member"] = [{"entity": {"reference": f"Patient/{pk}"}} for pk in members]
    return with_meta(resource, None)


def build_site(site: Site) -> Resource:
    return _group(f"site-{site.pk}", "site", site.name, _site_members(site.pk))


def build_program(first: ProgramTemplateVersion) -> Resource:
    return _group(f"program-{first.pk}", "program", first.name, _program_members(first))


SITES = Source(key="site", rows=_sites, build=build_site, updated=None)
PROGRAMS = Source(key="program", rows=_programs, build=build_program, updated=None)

KIND = kind(
    "Group",
    sources=[SITES, PROGRAMS],
    search_params=[ID],
    in_patient_compartment=False,
    documentation="A program (patients with a plan on it) or a site (patients by home site).",
)


def member_ids(group_id: str) -> list[int] | None:
    """A group's members' pks, or None when no group has that id."""
    found = KIND.source_for(group_id)
    if found is None:
        return None
    source, pk = found
    if source is SITES:
        if not Site.objects.filter(pk=pk).exists():
            return None
        return _site_members(pk)
    first = _programs().filter(pk=pk).first()
    return None if first is None else _program_members(first)
