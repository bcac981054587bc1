from django.apps import AppConfig


class CoverageConfig(AppConfig):
    name = "kapstone.coverage"
    label = "coverage"
    verbose_name = "Coverage and prior authorisations"
