from django.urls import path

from kapstone.patients import views

app_name = "patients"
urlpatterns = [
    path("", views.find, name="find"),
    path("new/", views.register, name="register"),
    path("<int:patient_id>/", views.chart, name="chart"),
    path("<int:patient_id>/edit/", views.edit, name="edit"),
    path("<int:patient_id>/weight/", views.record_measurement, name="measurement"),
]
