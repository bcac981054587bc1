"""The staff side of the companion: the chart's Companion tab and its actions."""

from django.urls import path

from kapstone.companion import staff_views

app_name = "companion_staff"
urlpatterns = [
    path("patients/<int:patient_id>/companion/", staff_views.chart_tab, name="chart_tab"),
    path("patients/<int:patient_id>/companion/invite/", staff_views.invite, name="invite"),
    path("patients/<int:patient_id>/companion/resend/", staff_views.resend, name="resend"),
    path("patients/<int:patient_id>/companion/active/", staff_views.set_active, name="set_active"),
]
