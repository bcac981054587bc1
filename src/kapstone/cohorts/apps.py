from django.apps import AppConfig


class CohortsConfig(AppConfig):
    name = "kapstone.cohorts"
    label = "cohorts"
    verbose_name = "Cohort dashboard and outcome reports"
