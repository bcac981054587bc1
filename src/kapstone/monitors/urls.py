from django.urls import path

from kapstone.monitors import views

app_name = "monitors"

urlpatterns = [
    path("", views.monitors, name="page"),
    path("devices/<int:device_id>/", views.device, name="device"),
]
