from django.apps import AppConfig


class CompanionConfig(AppConfig):
    name = "kapstone.companion"
    label = "companion"
    verbose_name = "Patient companion"
