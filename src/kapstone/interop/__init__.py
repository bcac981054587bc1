"""Exchange with other systems: FHIR R4 resources built from Kapstone records."""

from kapstone.interop.fhir_checks import FhirExportErrors
from kapstone.interop.fhir_questionnaire import (
    questionnaire_bundle,
    questionnaire_response,
    risk_observation,
    score_observation,
    total_observation,
)

__all__ = [
    "FhirExportErrors",
    "questionnaire_bundle",
    "questionnaire_response",
    "risk_observation",
    "score_observation",
    "total_observation",
]
