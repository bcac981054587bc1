from django.urls import path

from kapstone.rems import views

app_name = "rems"
urlpatterns = [
    path("rems/", views.queue, name="queue"),
    path("rems/prepare/", views.prepare_missing, name="prepare_missing"),
    path("patients/<int:patient_id>/rems/", views.chart_tab, name="chart_tab"),
    path(
        "patients/<int:patient_id>/rems/prepare/<int:session_id>/",
        views.prepare,
        name="prepare",
    ),
    path("patients/<int:patient_id>/rems/<int:form_id>/", views.detail, name="detail"),
    path("patients/<int:patient_id>/rems/<int:form_id>/pdf/", views.pdf, name="pdf"),
    path("patients/<int:patient_id>/rems/<int:form_id>/file/", views.file, name="file"),
]
