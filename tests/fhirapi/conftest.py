"""The FHIR API tests' fixtures: an administrator and registered system clients (support.py)."""

from tests.fhirapi.support import api_admin, api_clients  # noqa: F401 - fixtures
