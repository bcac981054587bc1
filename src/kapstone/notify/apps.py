from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "kapstone.notify"
    label = "notify"
    verbose_name = "Notifications"
