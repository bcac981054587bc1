from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "kapstone.intake"
    label = "intake"
    verbose_name = "Intake and eligibility"
