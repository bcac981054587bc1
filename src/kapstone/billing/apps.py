from django.apps import AppConfig


class BillingConfig(AppConfig):
    """Charges from signed encounters, the patient account, superbills and claims (CMS-1500, 837P)."""

    name = "kapstone.billing"
    label = "billing"
    verbose_name = "Billing"
