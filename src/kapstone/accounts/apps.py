from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "kapstone.accounts"
    label = "accounts"
    verbose_name = "Staff and sites"

    def ready(self) -> None:
        from kapstone.accounts import signals  # noqa: F401 - connects the receivers
