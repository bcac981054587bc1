from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "kapstone.ledger"
    label = "ledger"
    verbose_name = "Controlled-substance ledger"
