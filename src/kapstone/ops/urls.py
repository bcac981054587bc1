from django.urls import path

from kapstone.ops import views

app_name = "ops"
urlpatterns = [
    path("live", views.live, name="live"),
    path("ready", views.ready, name="ready"),
]
