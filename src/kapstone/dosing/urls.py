from django.urls import path

from kapstone.dosing import views

app_name = "dosing"
urlpatterns = [
    path("patients/<int:patient_id>/dosing/", views.chart_tab, name="chart_tab"),
    path("patients/<int:patient_id>/dosing/book/", views.book, name="book"),
    path("patients/<int:patient_id>/dosing/<int:session_id>/cancel/", views.cancel, name="cancel"),
]
