from django.urls import path

from kapstone.integration import views

app_name = "integration"
_SESSION = "patients/<int:patient_id>/integration/<int:integration_session_id>/"
_PROCESS = "patients/<int:patient_id>/integration/process-notes/"
urlpatterns = [
    path("patients/<int:patient_id>/integration/", views.chart_tab, name="chart_tab"),
    path(_SESSION, views.session_detail, name="session"),
    path(
        "patients/<int:patient_id>/integration/after-dose/<int:session_id>/",
        views.after_dose,
        name="after_dose",
    ),
    path(f"{_SESSION}note/", views.write_note, name="write_note"),
    path(f"{_SESSION}addendum/", views.addendum, name="addendum"),
    path(_PROCESS, views.process_notes, name="process_notes"),
    path(f"{_PROCESS}new/", views.new_process_note, name="new_process_note"),
    path(f"{_PROCESS}access/", views.process_note_access, name="process_note_access"),
    path(f"{_PROCESS}<int:process_note_id>/", views.process_note, name="process_note"),
]
