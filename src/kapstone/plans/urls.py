from django.urls import path

from kapstone.plans import views

app_name = "plans"
urlpatterns = [
    path("programs/", views.program_list, name="programs"),
    path("programs/new/", views.program_new, name="program_new"),
    path("programs/<int:template_id>/", views.program_detail, name="program"),
    path("programs/<int:template_id>/edit/", views.program_edit, name="program_edit"),
    path("patients/<int:patient_id>/plan/", views.chart_tab, name="chart_tab"),
    path("patients/<int:patient_id>/plan/draft/", views.draft, name="draft"),
    path("patients/<int:patient_id>/plan/<int:plan_id>/", views.detail, name="detail"),
    path(
        "patients/<int:patient_id>/plan/<int:plan_id>/modalities/",
        views.modalities,
        name="modalities",
    ),
    path("patients/<int:patient_id>/plan/<int:plan_id>/sign/", views.sign, name="sign"),
    path("patients/<int:patient_id>/plan/<int:plan_id>/pdf/", views.pdf, name="pdf"),
    path(
        "patients/<int:patient_id>/plan/<int:plan_id>/relapse-prevention/pdf/",
        views.relapse_pdf,
        name="relapse_pdf",
    ),
]
