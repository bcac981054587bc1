from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "kapstone.patients"
    label = "patients"
    verbose_name = "Patient registry"
