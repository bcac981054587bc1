from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "kapstone.safety"
    label = "safety"
    verbose_name = "Suicide-risk alerts and dosing holds"
