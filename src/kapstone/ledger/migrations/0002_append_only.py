from django.db import migrations

from kapstone.audit.triggers import append_only


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]
    operations = [
        append_only(
            "ledger_ledgerentry",
            "ledger_receiptdetail",
            "ledger_stockcount",
            "ledger_countline",
            "ledger_discrepancy",
            "ledger_discrepancyresolution",
        )
    ]
