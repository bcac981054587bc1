from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "kapstone.outcomes"
    label = "outcomes"
    verbose_name = "Outcomes"
