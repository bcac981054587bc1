from django.apps import AppConfig


class TodayConfig(AppConfig):
    name = "kapstone.today"
    label = "today"
    verbose_name = "Day board"
