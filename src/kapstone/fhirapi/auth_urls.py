"""SMART Backend Services, Bulk $export and the administrator's client pages.

Included before the read/search URLs (``fhir/``) so ``$export`` matches before ``<type>/<id>``.
"""

from django.urls import path

from kapstone.fhirapi import admin_views, smart

app_name = "fhir_auth"

urlpatterns = [
    path(".well-known/smart-configuration", smart.smart_configuration, name="smart_configuration"),
    path("fhir/auth/token", smart.token, name="token"),
    # The administrator's pages.
    path("fhir-clients/", admin_views.clients, name="clients"),
    path("fhir-clients/<int:api_client_id>/", admin_views.client, name="client"),
]
