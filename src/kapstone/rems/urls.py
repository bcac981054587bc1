from django.urls import path

from kapstone.rems import views

app_name = "rems"
_TAB = "patients/<int:patient_id>/rems/"
_FORM = f"{_TAB}<int:form_id>/"
urlpatterns = [
    path("rems/", views.queue, name="queue"),
    path("rems/prepare/", views.prepare_missing, name="prepare_missing"),
    path(_TAB, views.chart_tab, name="chart_tab"),
    path(f"{_TAB}prepare/<int:session_id>/", views.prepare, name="prepare"),
    path(_FORM, views.detail, name="detail"),
    path(f"{_FORM}pdf/", views.pdf, name="pdf"),
    path(f"{_FORM}file/", views.file, name="file"),
]
