from django.apps import AppConfig


class PreparationConfig(AppConfig):
    name = "kapstone.preparation"
    label = "preparation"
    verbose_name = "Preparation for sessions"
