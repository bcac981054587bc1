from django.urls import path

from kapstone.measures import views

app_name = "measures"
urlpatterns = [
    path("measures/", views.work_queue, name="work_queue"),
    path("patients/<int:patient_id>/measures/", views.chart_tab, name="chart_tab"),
    path("patients/<int:patient_id>/measures/plan/", views.set_plan, name="plan"),
    path("patients/<int:patient_id>/measures/send/", views.send_due, name="send_due"),
]
