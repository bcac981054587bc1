"""The integration journal, under ``/me/journal/`` (the patient's own pages)."""

from django.urls import path

from kapstone.journal import views

app_name = "journal"
urlpatterns = [
    path("", views.home, name="home"),
    path("new/", views.new_entry, name="new"),
    path("<int:entry_id>/", views.entry, name="entry"),
]
