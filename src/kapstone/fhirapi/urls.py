"""The FHIR API's read and search addresses, under ``fhir/`` (after fhirauth's ``auth_urls``, so
``$export`` and the token endpoint match first). Only the types in the registry match the type
converter; anything else under ``fhir/`` answers an OperationOutcome."""

from __future__ import annotations

from django.urls import path, re_path, register_converter

from kapstone.fhirapi import views
from kapstone.fhirapi.registry import KINDS

app_name = "fhir"


class ResourceTypeConverter:
    """Matches exactly the resource types the registry serves."""

    regex = "|".join(sorted(KINDS))

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ResourceTypeConverter, "fhirtype")

urlpatterns = [
    path("metadata", views.metadata, name="metadata"),
    path("<fhirtype:resource_type>", views.search, name="search"),
    path("<fhirtype:resource_type>/", views.search, name="search_slash"),
    path("<fhirtype:resource_type>/<str:resource_id>", views.read, name="read"),
    re_path(r"^(?P<rest>.*)$", views.unknown, name="unknown"),
]
