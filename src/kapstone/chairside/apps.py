from django.apps import AppConfig


class ChairsideConfig(AppConfig):
    name = "kapstone.chairside"
    label = "chairside"
    verbose_name = "Chair-side dosing records"
