"""The patient companion, under ``/me/``. Each concept keeps its own URL module."""

from django.urls import include, path

from kapstone.companion import views

app_name = "companion"
urlpatterns = [
    path("", views.home, name="home"),
    path("", include("kapstone.companion.signin_urls")),
    path("", include("kapstone.companion.program_urls")),
    path("", include("kapstone.companion.plan_urls")),
]
