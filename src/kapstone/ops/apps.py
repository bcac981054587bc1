from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Running Kapstone: release, first accounts, health endpoints and the worker's heartbeat."""

    name = "kapstone.ops"
    label = "ops"
    verbose_name = "Operations"
