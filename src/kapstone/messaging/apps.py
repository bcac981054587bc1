from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "kapstone.messaging"
    label = "messaging"
    verbose_name = "Secure messages"
