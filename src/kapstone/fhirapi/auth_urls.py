"""SMART Backend Services, Bulk $export and the administrator's client pages.

Included before the read/search URLs (``fhir/``) so ``$export`` matches before ``<type>/<id>``.
"""

from django.urls import path

from kapstone.fhirapi import admin_views, bulk_views, smart

app_name = "fhir_auth"

urlpatterns = [
    path(".well-known/smart-configuration", smart.smart_configuration, name="smart_configuration"),
    path("fhir/auth/token", smart.token, name="token"),
    # Bulk Data $export: before fhir/<type>/<id> so "$export" is never taken for an id.
    path("fhir/$export", bulk_views.export_system, name="export_system"),
    path("fhir/Patient/$export", bulk_views.export_patient, name="export_patient"),
    path("fhir/Group/<str:group_id>/$export", bulk_views.export_group, name="export_group"),
    path("fhir/bulk/<str:job_id>", bulk_views.bulk_status, name="bulk_status"),
    path("fhir/bulk/<str:job_id>/<str:file_name>", bulk_views.bulk_file, name="bulk_file"),
    # The administrator's pages.
    path("fhir-clients/", admin_views.clients, name="clients"),
    path("fhir-clients/<int:api_client_id>/", admin_views.client, name="client"),
]
