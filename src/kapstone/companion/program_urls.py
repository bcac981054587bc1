"""The program's pages: sessions, questionnaires due and progress (under ``companion:``)."""

from django.urls import path

from kapstone.companion import program_views

urlpatterns = [
    path("sessions/", program_views.sessions, name="sessions"),
    path("questionnaires/", program_views.questionnaires, name="questionnaires"),
    path("progress/", program_views.progress, name="progress"),
]
