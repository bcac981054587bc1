from django.urls import path

from kapstone.preparation import views

app_name = "preparation"
urlpatterns = [
    path("", views.prepare, name="prepare"),
]
