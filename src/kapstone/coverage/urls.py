from django.urls import path

from kapstone.coverage import views

app_name = "coverage"
urlpatterns = [
    path("", views.board, name="board"),
    path("patients/<int:patient_id>/", views.patient_coverage, name="patient"),
]
