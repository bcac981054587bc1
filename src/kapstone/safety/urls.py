from django.urls import path

from kapstone.safety import views

app_name = "safety"
urlpatterns = [
    path("alerts/", views.board, name="board"),
    path("alerts/banner/", views.banner, name="banner"),
    path("patients/<int:patient_id>/alerts/", views.chart_tab, name="chart_tab"),
    path(
        "patients/<int:patient_id>/alerts/<int:alert_id>/acknowledge/",
        views.acknowledge,
        name="acknowledge",
    ),
    path(
        "patients/<int:patient_id>/dosing-holds/<int:hold_id>/review/",
        views.review_hold,
        name="review_hold",
    ),
]
