from django.apps import AppConfig


class FhirApiConfig(AppConfig):
    """A FHIR R4 server over Kapstone's own records, for other systems (EHRs, payers, warehouses)."""

    name = "kapstone.fhirapi"
    label = "fhirapi"
    verbose_name = "FHIR API"
