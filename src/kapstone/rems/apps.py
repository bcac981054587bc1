from django.apps import AppConfig


class RemsConfig(AppConfig):
    name = "kapstone.rems"
    label = "rems"
    verbose_name = "Spravato REMS monitoring forms"
