"""A URL configuration for the debug-page tests: the site's own, plus a view that fails holding a patient."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from kapstone.patients.models import Patient
from kapstone.urls import handler403, handler404
from kapstone.urls import urlpatterns as site_urlpatterns

__all__ = ["handler403", "handler404", "urlpatterns"]


class ChartFailed(Exception):
    pass


def failing_chart(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = Patient.objects.get(pk=patient_id)
    details = {"name": f"{patient.given_name} {patient.family_name}", "born": patient.date_of_birth}
    label = str(patient)
    raise ChartFailed(f"the chart failed to render ({len(details)} details, {len(label)} chars)")


urlpatterns = [path("test-failing-chart/<int:patient_id>/", failing_chart), *site_urlpatterns]
