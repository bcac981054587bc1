from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "kapstone.web"
    label = "web"
    verbose_name = "Web shell"
