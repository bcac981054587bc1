from django.urls import path

from kapstone.plans import views

app_name = "plans"
_PROGRAM = "programs/<int:template_id>/"
_TAB = "patients/<int:patient_id>/plan/"
_PLAN = f"{_TAB}<int:plan_id>/"
urlpatterns = [
    path("programs/", views.program_list, name="programs"),
    path("programs/new/", views.program_new, name="program_new"),
    path(_PROGRAM, views.program_detail, name="program"),
    path(f"{_PROGRAM}edit/", views.program_edit, name="program_edit"),
    path(_TAB, views.chart_tab, name="chart_tab"),
    path(f"{_TAB}draft/", views.draft, name="draft"),
    path(_PLAN, views.detail, name="detail"),
    path(f"{_PLAN}modalities/", views.modalities, name="modalities"),
    path(f"{_PLAN}sign/", views.sign, name="sign"),
    path(f"{_PLAN}pdf/", views.pdf, name="pdf"),
    path(f"{_PLAN}relapse-prevention/pdf/", views.relapse_pdf, name="relapse_pdf"),
]
