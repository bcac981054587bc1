from django.apps import AppConfig


class MeasuresConfig(AppConfig):
    name = "kapstone.measures"
    label = "measures"
    verbose_name = "Measurement schedule"
