"""The program's pages: sessions, questionnaires due and progress (under ``companion:``)."""

from django.urls import path

from kapstone.companion import placeholders

urlpatterns = [
    path("sessions/", placeholders.placeholder("Sessions", "sessions"), name="sessions"),
    path(
        "questionnaires/",
        placeholders.placeholder("Questionnaires", "questionnaires"),
        name="questionnaires",
    ),
    path("progress/", placeholders.placeholder("Progress", "progress"), name="progress"),
]
