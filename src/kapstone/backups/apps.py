from django.apps import AppConfig


class BackupsConfig(AppConfig):
    name = "kapstone.backups"
    label = "backups"
    verbose_name = "Backups and restores"
