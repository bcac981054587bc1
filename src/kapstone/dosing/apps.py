from django.apps import AppConfig


class DosingConfig(AppConfig):
    name = "kapstone.dosing"
    label = "dosing"
    verbose_name = "Dosing sessions"
