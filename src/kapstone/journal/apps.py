from django.apps import AppConfig


class JournalConfig(AppConfig):
    name = "kapstone.journal"
    label = "journal"
    verbose_name = "Integration journal"
