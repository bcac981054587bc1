"""Exchange with other systems: FHIR R4 resources built from Kapstone records."""
