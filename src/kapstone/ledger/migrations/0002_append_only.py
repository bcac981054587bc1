"""Makes the ledger tables that hold signed or witnessed facts append-only: ledger_ledgerentry,
ledger_receiptdetail, ledger_stockcount, ledger_countline, ledger_discrepancy,
ledger_discrepancyresolution.

The SQL is written out here rather than imported: a migration must go on building the database it
built when it was written, whatever the application code (kapstone.audit.triggers, which
generated these statements) becomes later.
"""

from collections.abc import Callable

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

FORWARDS = {
    "sqlite": [
        """CREATE TRIGGER IF NOT EXISTS ledger_ledgerentry_append_only_update BEFORE UPDATE ON ledger_ledgerentry
                BEGIN SELECT RAISE(ABORT, 'ledger_ledgerentry is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS ledger_ledgerentry_append_only_delete BEFORE DELETE ON ledger_ledgerentry
                BEGIN SELECT RAISE(ABORT, 'ledger_ledgerentry is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS ledger_receiptdetail_append_only_update BEFORE UPDATE ON ledger_receiptdetail
                BEGIN SELECT RAISE(ABORT, 'ledger_receiptdetail is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS ledger_receiptdetail_append_only_delete BEFORE DELETE ON ledger_receiptdetail
                BEGIN SELECT RAISE(ABORT, 'ledger_receiptdetail is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS ledger_stockcount_append_only_update BEFORE UPDATE ON ledger_stockcount
                BEGIN SELECT RAISE(ABORT, 'ledger_stockcount is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS ledger_stockcount_append_only_delete BEFORE DELETE ON ledger_stockcount
                BEGIN SELECT RAISE(ABORT, 'ledger_stockcount is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS ledger_countline_append_only_update BEFORE UPDATE ON ledger_countline
                BEGIN SELECT RAISE(ABORT, 'ledger_countline is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS ledger_countline_append_only_delete BEFORE DELETE ON ledger_countline
                BEGIN SELECT RAISE(ABORT, 'ledger_countline is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS ledger_discrepancy_append_only_update BEFORE UPDATE ON ledger_discrepancy
                BEGIN SELECT RAISE(ABORT, 'ledger_discrepancy is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS ledger_discrepancy_append_only_delete BEFORE DELETE ON ledger_discrepancy
                BEGIN SELECT RAISE(ABORT, 'ledger_discrepancy is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS ledger_discrepancyresolution_append_only_update BEFORE UPDATE ON ledger_discrepancyresolution
                BEGIN SELECT RAISE(ABORT, 'ledger_discrepancyresolution is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS ledger_discrepancyresolution_append_only_delete BEFORE DELETE ON ledger_discrepancyresolution
                BEGIN SELECT RAISE(ABORT, 'ledger_discrepancyresolution is append-only: DELETE refused'); END""",
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER ledger_ledgerentry_append_only BEFORE UPDATE OR DELETE ON ledger_ledgerentry
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER ledger_receiptdetail_append_only BEFORE UPDATE OR DELETE ON ledger_receiptdetail
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER ledger_stockcount_append_only BEFORE UPDATE OR DELETE ON ledger_stockcount
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER ledger_countline_append_only BEFORE UPDATE OR DELETE ON ledger_countline
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER ledger_discrepancy_append_only BEFORE UPDATE OR DELETE ON ledger_discrepancy
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER ledger_discrepancyresolution_append_only BEFORE UPDATE OR DELETE ON ledger_discrepancyresolution
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
    ],
}

BACKWARDS = {
    "sqlite": [
        """DROP TRIGGER IF EXISTS ledger_ledgerentry_append_only_update""",
        """DROP TRIGGER IF EXISTS ledger_ledgerentry_append_only_delete""",
        """DROP TRIGGER IF EXISTS ledger_receiptdetail_append_only_update""",
        """DROP TRIGGER IF EXISTS ledger_receiptdetail_append_only_delete""",
        """DROP TRIGGER IF EXISTS ledger_stockcount_append_only_update""",
        """DROP TRIGGER IF EXISTS ledger_stockcount_append_only_delete""",
        """DROP TRIGGER IF EXISTS ledger_countline_append_only_update""",
        """DROP TRIGGER IF EXISTS ledger_countline_append_only_delete""",
        """DROP TRIGGER IF EXISTS ledger_discrepancy_append_only_update""",
        """DROP TRIGGER IF EXISTS ledger_discrepancy_append_only_delete""",
        """DROP TRIGGER IF EXISTS ledger_discrepancyresolution_append_only_update""",
        """DROP TRIGGER IF EXISTS ledger_discrepancyresolution_append_only_delete""",
    ],
    "postgresql": [
        """DROP TRIGGER IF EXISTS ledger_ledgerentry_append_only ON ledger_ledgerentry""",
        """DROP TRIGGER IF EXISTS ledger_receiptdetail_append_only ON ledger_receiptdetail""",
        """DROP TRIGGER IF EXISTS ledger_stockcount_append_only ON ledger_stockcount""",
        """DROP TRIGGER IF EXISTS ledger_countline_append_only ON ledger_countline""",
        """DROP TRIGGER IF EXISTS ledger_discrepancy_append_only ON ledger_discrepancy""",
        """DROP TRIGGER IF EXISTS ledger_discrepancyresolution_append_only ON ledger_discrepancyresolution""",
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
    dependencies = [('ledger', '0001_initial')]
    operations = [migrations.RunPython(_run(FORWARDS), _run(BACKWARDS))]
