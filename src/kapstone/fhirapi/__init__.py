"""Kapstone's FHIR R4 API: read and search, SMART Backend Services, and Bulk Data $export."""
