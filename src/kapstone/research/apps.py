from django.apps import AppConfig


class ResearchConfig(AppConfig):
    name = "kapstone.research"
    label = "research"
    verbose_name = "De-identified research exports"
