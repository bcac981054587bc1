from django.urls import path

from kapstone.outcomes import views

app_name = "outcomes"
urlpatterns = [
    path("patients/<int:patient_id>/outcomes/", views.chart_tab, name="chart_tab"),
    path(
        "patients/<int:patient_id>/questionnaires/<int:response_id>/fhir.json",
        views.fhir_export,
        name="fhir_export",
    ),
]
