"""One module per resource type; ALL is every kind the API serves."""

from __future__ import annotations

from kapstone.fhirapi.registry import ResourceKind
from kapstone.fhirapi.resources import (
    care_plan,
    care_team,
    condition,
    consent,
    encounter,
    group,
    location,
    medication_administration,
    observation,
    organization,
    patient,
    practitioner,
    provenance,
    questionnaire,
    questionnaire_response,
)

ALL: tuple[ResourceKind, ...] = (
    patient.KIND,
    practitioner.KIND,
    organization.KIND,
    location.KIND,
    care_team.KIND,
    condition.KIND,
    observation.KIND,
    questionnaire.KIND,
    questionnaire_response.KIND,
    medication_administration.KIND,
    encounter.KIND,
    care_plan.KIND,
    consent.KIND,
    provenance.KIND,
    group.KIND,
)
