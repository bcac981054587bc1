from django.apps import AppConfig


class TimetableConfig(AppConfig):
    name = "kapstone.timetable"
    label = "timetable"
    verbose_name = "Retreat scheduling and calendars"
