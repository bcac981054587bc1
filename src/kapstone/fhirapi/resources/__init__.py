"""One module per resource type; ALL is every kind the API serves."""

from __future__ import annotations

from kapstone.fhirapi.registry import ResourceKind
from kapstone.fhirapi.resources import group, patient

ALL: tuple[ResourceKind, ...] = (patient.KIND, group.KIND)
