from django.apps import AppConfig


class MonitorsConfig(AppConfig):
    """Bedside monitors feeding vital signs over HL7 v2 (MLLP) into the chair-side session."""

    name = "kapstone.monitors"
    label = "monitors"
    verbose_name = "Bedside monitors"
