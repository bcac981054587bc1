"""The patient's messages, under /me/messages/: no patient id in any URL (the session says who)."""

from django.urls import path

from kapstone.messaging import views

app_name = "messaging"
urlpatterns = [
    path("", views.home, name="home"),
    path("<int:thread_id>/", views.thread, name="thread"),
]
