from django.urls import path

from kapstone.policies import views

app_name = "policies"
urlpatterns = [path("policies/monitoring/", views.monitoring, name="monitoring")]
