from django.urls import path

from kapstone.audit import views

app_name = "audit"
urlpatterns = [path("", views.browse, name="browse")]
