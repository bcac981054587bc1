from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    name = "kapstone.policies"
    label = "policies"
    verbose_name = "Clinic policy"
