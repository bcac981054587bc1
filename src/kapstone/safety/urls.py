from django.urls import path

from kapstone.safety import views

app_name = "safety"
_PATIENT = "patients/<int:patient_id>/"
urlpatterns = [
    path("alerts/", views.board, name="board"),
    path("alerts/banner/", views.banner, name="banner"),
    path(f"{_PATIENT}alerts/", views.chart_tab, name="chart_tab"),
    path(f"{_PATIENT}alerts/<int:alert_id>/acknowledge/", views.acknowledge, name="acknowledge"),
    path(f"{_PATIENT}dosing-holds/<int:hold_id>/review/", views.review_hold, name="review_hold"),
]
