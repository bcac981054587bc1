"""SMART Backend Services, Bulk $export and the administrator's client pages.

Included before the read/search URLs (``fhir/``) so ``$export`` matches before ``<type>/<id>``.
"""

from django.urls import path

from kapstone.fhirapi import smart

app_name = "fhir_auth"

urlpatterns = [
    path(".well-known/smart-configuration", smart.smart_configuration, name="smart_configuration"),
    path("fhir/auth/token", smart.token, name="token"),
]
