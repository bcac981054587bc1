from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "kapstone.plans"
    label = "plans"
    verbose_name = "Program templates and treatment plans"
