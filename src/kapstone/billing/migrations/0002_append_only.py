"""Makes billing's written-once tables append-only: billing_accountentry, billing_chargedecision, billing_chargeline, billing_claim, billing_claimline, billing_claimstatusevent, billing_feeprice, billing_feescheduleversion.

The SQL is written out here rather than imported: a migration must go on building the database it
built when it was written, whatever the application code (kapstone.audit.triggers) becomes later.
"""

from collections.abc import Callable

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

FORWARDS = {
    "sqlite": [
        """CREATE TRIGGER IF NOT EXISTS billing_accountentry_append_only_update BEFORE UPDATE ON billing_accountentry
                BEGIN SELECT RAISE(ABORT, 'billing_accountentry is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS billing_accountentry_append_only_delete BEFORE DELETE ON billing_accountentry
                BEGIN SELECT RAISE(ABORT, 'billing_accountentry is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS billing_chargedecision_append_only_update BEFORE UPDATE ON billing_chargedecision
                BEGIN SELECT RAISE(ABORT, 'billing_chargedecision is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS billing_chargedecision_append_only_delete BEFORE DELETE ON billing_chargedecision
                BEGIN SELECT RAISE(ABORT, 'billing_chargedecision is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS billing_chargeline_append_only_update BEFORE UPDATE ON billing_chargeline
                BEGIN SELECT RAISE(ABORT, 'billing_chargeline is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS billing_chargeline_append_only_delete BEFORE DELETE ON billing_chargeline
                BEGIN SELECT RAISE(ABORT, 'billing_chargeline is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS billing_claim_append_only_update BEFORE UPDATE ON billing_claim
                BEGIN SELECT RAISE(ABORT, 'billing_claim is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS billing_claim_append_only_delete BEFORE DELETE ON billing_claim
                BEGIN SELECT RAISE(ABORT, 'billing_claim is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS billing_claimline_append_only_update BEFORE UPDATE ON billing_claimline
                BEGIN SELECT RAISE(ABORT, 'billing_claimline is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS billing_claimline_append_only_delete BEFORE DELETE ON billing_claimline
                BEGIN SELECT RAISE(ABORT, 'billing_claimline is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS billing_claimstatusevent_append_only_update BEFORE UPDATE ON billing_claimstatusevent
                BEGIN SELECT RAISE(ABORT, 'billing_claimstatusevent is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS billing_claimstatusevent_append_only_delete BEFORE DELETE ON billing_claimstatusevent
                BEGIN SELECT RAISE(ABORT, 'billing_claimstatusevent is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS billing_feeprice_append_only_update BEFORE UPDATE ON billing_feeprice
                BEGIN SELECT RAISE(ABORT, 'billing_feeprice is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS billing_feeprice_append_only_delete BEFORE DELETE ON billing_feeprice
                BEGIN SELECT RAISE(ABORT, 'billing_feeprice is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS billing_feescheduleversion_append_only_update BEFORE UPDATE ON billing_feescheduleversion
                BEGIN SELECT RAISE(ABORT, 'billing_feescheduleversion is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS billing_feescheduleversion_append_only_delete BEFORE DELETE ON billing_feescheduleversion
                BEGIN SELECT RAISE(ABORT, 'billing_feescheduleversion is append-only: DELETE refused'); END""",
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER billing_accountentry_append_only BEFORE UPDATE OR DELETE ON billing_accountentry
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE TRIGGER billing_chargedecision_append_only BEFORE UPDATE OR DELETE ON billing_chargedecision
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE TRIGGER billing_chargeline_append_only BEFORE UPDATE OR DELETE ON billing_chargeline
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE TRIGGER billing_claim_append_only BEFORE UPDATE OR DELETE ON billing_claim
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE TRIGGER billing_claimline_append_only BEFORE UPDATE OR DELETE ON billing_claimline
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE TRIGGER billing_claimstatusevent_append_only BEFORE UPDATE OR DELETE ON billing_claimstatusevent
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE TRIGGER billing_feeprice_append_only BEFORE UPDATE OR DELETE ON billing_feeprice
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE TRIGGER billing_feescheduleversion_append_only BEFORE UPDATE OR DELETE ON billing_feescheduleversion
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
    ],
}

BACKWARDS = {
    "sqlite": [
        """DROP TRIGGER IF EXISTS billing_accountentry_append_only_update""",
        """DROP TRIGGER IF EXISTS billing_accountentry_append_only_delete""",
        """DROP TRIGGER IF EXISTS billing_chargedecision_append_only_update""",
        """DROP TRIGGER IF EXISTS billing_chargedecision_append_only_delete""",
        """DROP TRIGGER IF EXISTS billing_chargeline_append_only_update""",
        """DROP TRIGGER IF EXISTS billing_chargeline_append_only_delete""",
        """DROP TRIGGER IF EXISTS billing_claim_append_only_update""",
        """DROP TRIGGER IF EXISTS billing_claim_append_only_delete""",
        """DROP TRIGGER IF EXISTS billing_claimline_append_only_update""",
        """DROP TRIGGER IF EXISTS billing_claimline_append_only_delete""",
        """DROP TRIGGER IF EXISTS billing_claimstatusevent_append_only_update""",
        """DROP TRIGGER IF EXISTS billing_claimstatusevent_append_only_delete""",
        """DROP TRIGGER IF EXISTS billing_feeprice_append_only_update""",
        """DROP TRIGGER IF EXISTS billing_feeprice_append_only_delete""",
        """DROP TRIGGER IF EXISTS billing_feescheduleversion_append_only_update""",
        """DROP TRIGGER IF EXISTS billing_feescheduleversion_append_only_delete""",
    ],
    "postgresql": [
        """DROP TRIGGER IF EXISTS billing_accountentry_append_only ON billing_accountentry""",
        """DROP TRIGGER IF EXISTS billing_chargedecision_append_only ON billing_chargedecision""",
        """DROP TRIGGER IF EXISTS billing_chargeline_append_only ON billing_chargeline""",
        """DROP TRIGGER IF EXISTS billing_claim_append_only ON billing_claim""",
        """DROP TRIGGER IF EXISTS billing_claimline_append_only ON billing_claimline""",
        """DROP TRIGGER IF EXISTS billing_claimstatusevent_append_only ON billing_claimstatusevent""",
        """DROP TRIGGER IF EXISTS billing_feeprice_append_only ON billing_feeprice""",
        """DROP TRIGGER IF EXISTS billing_feescheduleversion_append_only ON billing_feescheduleversion""",
    ],
}


def _run(
    statements: dict[str, list[str]],
) -> Callable[[Apps, BaseDatabaseSchemaEditor], None]:
    def apply(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        vendor = schema_editor.connection.vendor
        if vendor not in statements:
            raise NotImplementedError(f"no append-only triggers written for {vendor}")
        with schema_editor.connection.cursor() as cursor:
            for sql in statements[vendor]:
                cursor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [migrations.RunPython(_run(FORWARDS), _run(BACKWARDS))]
