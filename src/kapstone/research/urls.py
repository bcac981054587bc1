from django.urls import path

from kapstone.research import views

app_name = "research"
urlpatterns = [
    path("research/exports/", views.exports, name="exports"),
    path("research/exports/<int:export_id>/", views.export_status, name="export_status"),
    path("research/exports/<int:export_id>/download/", views.download, name="download"),
]
