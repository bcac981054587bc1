from django.apps import AppConfig


class ConsentsConfig(AppConfig):
    name = "kapstone.consents"
    label = "consents"
    verbose_name = "Electronic consent"
