from django.urls import path

from kapstone.cohorts import views

app_name = "cohorts"
urlpatterns = [
    path("cohorts/", views.dashboard, name="dashboard"),
    path("cohorts/csv/<slug:table>/", views.table_csv, name="csv"),
    path("cohorts/report.pdf", views.program_report, name="report"),
    path("patients/<int:patient_id>/outcomes/letter/", views.outcome_letter, name="letter"),
]
