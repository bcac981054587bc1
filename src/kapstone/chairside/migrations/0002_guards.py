"""The chair-side record's guards: append-only tables, write-once columns (a record's discharge and
signature, a dose's stop time) and no new rows joining a signed record.

The SQL is written out here rather than imported: a migration must go on building the database it
built when it was written, whatever the application code (kapstone.audit.triggers and
kapstone.chairside.triggers, which generated these statements) becomes later.
"""

from collections.abc import Callable

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

FORWARDS = {
    "sqlite": [
        """CREATE TRIGGER IF NOT EXISTS chairside_checklistanswer_append_only_update BEFORE UPDATE ON chairside_checklistanswer
                BEGIN SELECT RAISE(ABORT, 'chairside_checklistanswer is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS chairside_checklistanswer_append_only_delete BEFORE DELETE ON chairside_checklistanswer
                BEGIN SELECT RAISE(ABORT, 'chairside_checklistanswer is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS chairside_vitalreading_append_only_update BEFORE UPDATE ON chairside_vitalreading
                BEGIN SELECT RAISE(ABORT, 'chairside_vitalreading is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS chairside_vitalreading_append_only_delete BEFORE DELETE ON chairside_vitalreading
                BEGIN SELECT RAISE(ABORT, 'chairside_vitalreading is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS chairside_vitalstrike_append_only_update BEFORE UPDATE ON chairside_vitalstrike
                BEGIN SELECT RAISE(ABORT, 'chairside_vitalstrike is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS chairside_vitalstrike_append_only_delete BEFORE DELETE ON chairside_vitalstrike
                BEGIN SELECT RAISE(ABORT, 'chairside_vitalstrike is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS chairside_proceeddecision_append_only_update BEFORE UPDATE ON chairside_proceeddecision
                BEGIN SELECT RAISE(ABORT, 'chairside_proceeddecision is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS chairside_proceeddecision_append_only_delete BEFORE DELETE ON chairside_proceeddecision
                BEGIN SELECT RAISE(ABORT, 'chairside_proceeddecision is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS chairside_dissociationrating_append_only_update BEFORE UPDATE ON chairside_dissociationrating
                BEGIN SELECT RAISE(ABORT, 'chairside_dissociationrating is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS chairside_dissociationrating_append_only_delete BEFORE DELETE ON chairside_dissociationrating
                BEGIN SELECT RAISE(ABORT, 'chairside_dissociationrating is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS chairside_adverseevent_append_only_update BEFORE UPDATE ON chairside_adverseevent
                BEGIN SELECT RAISE(ABORT, 'chairside_adverseevent is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS chairside_adverseevent_append_only_delete BEFORE DELETE ON chairside_adverseevent
                BEGIN SELECT RAISE(ABORT, 'chairside_adverseevent is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS chairside_sessionalert_append_only_update BEFORE UPDATE ON chairside_sessionalert
                BEGIN SELECT RAISE(ABORT, 'chairside_sessionalert is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS chairside_sessionalert_append_only_delete BEFORE DELETE ON chairside_sessionalert
                BEGIN SELECT RAISE(ABORT, 'chairside_sessionalert is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS chairside_sessionalertacknowledgement_append_only_update BEFORE UPDATE ON chairside_sessionalertacknowledgement
                BEGIN SELECT RAISE(ABORT, 'chairside_sessionalertacknowledgement is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS chairside_sessionalertacknowledgement_append_only_delete BEFORE DELETE ON chairside_sessionalertacknowledgement
                BEGIN SELECT RAISE(ABORT, 'chairside_sessionalertacknowledgement is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS chairside_dischargesignoff_append_only_update BEFORE UPDATE ON chairside_dischargesignoff
                BEGIN SELECT RAISE(ABORT, 'chairside_dischargesignoff is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS chairside_dischargesignoff_append_only_delete BEFORE DELETE ON chairside_dischargesignoff
                BEGIN SELECT RAISE(ABORT, 'chairside_dischargesignoff is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS chairside_sessionaddendum_append_only_update BEFORE UPDATE ON chairside_sessionaddendum
                BEGIN SELECT RAISE(ABORT, 'chairside_sessionaddendum is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS chairside_sessionaddendum_append_only_delete BEFORE DELETE ON chairside_sessionaddendum
                BEGIN SELECT RAISE(ABORT, 'chairside_sessionaddendum is append-only: DELETE refused'); END""",
        """CREATE TRIGGER IF NOT EXISTS chairside_chairsiderecord_write_once BEFORE UPDATE ON chairside_chairsiderecord
            WHEN OLD.signed_at IS NOT NULL OR NEW.id IS NOT OLD.id OR NEW.opened_at IS NOT OLD.opened_at OR NEW.route IS NOT OLD.route OR NEW.protocol_id IS NOT OLD.protocol_id OR NEW.policy_version IS NOT OLD.policy_version OR NEW.checklist_policy_version IS NOT OLD.checklist_policy_version OR NEW.opened_by_id IS NOT OLD.opened_by_id OR NEW.session_id IS NOT OLD.session_id OR (OLD.discharged_at IS NOT NULL AND NEW.discharged_at IS NOT OLD.discharged_at) OR (OLD.signed_at IS NOT NULL AND NEW.signed_at IS NOT OLD.signed_at) OR (OLD.signed_by_id IS NOT NULL AND NEW.signed_by_id IS NOT OLD.signed_by_id)
            BEGIN SELECT RAISE(ABORT, 'chairside_chairsiderecord: only an empty column may be filled in, and nothing changes once the record is signed'); END""",
        """CREATE TRIGGER IF NOT EXISTS chairside_doseadministration_write_once BEFORE UPDATE ON chairside_doseadministration
            WHEN (SELECT signed_at FROM chairside_chairsiderecord WHERE id = OLD.record_id) IS NOT NULL OR NEW.id IS NOT OLD.id OR NEW.expires_on IS NOT OLD.expires_on OR NEW.concentration_mg_per_ml IS NOT OLD.concentration_mg_per_ml OR NEW.planned_dose_mg IS NOT OLD.planned_dose_mg OR NEW.dose_mg IS NOT OLD.dose_mg OR NEW.change_reason IS NOT OLD.change_reason OR NEW.route IS NOT OLD.route OR NEW.started_at IS NOT OLD.started_at OR NEW.rate_ml_per_hour IS NOT OLD.rate_ml_per_hour OR NEW.devices IS NOT OLD.devices OR NEW.recorded_at IS NOT OLD.recorded_at OR NEW.given_by_id IS NOT OLD.given_by_id OR NEW.ledger_entry_id IS NOT OLD.ledger_entry_id OR NEW.lot_id IS NOT OLD.lot_id OR NEW.product_id IS NOT OLD.product_id OR NEW.record_id IS NOT OLD.record_id OR NEW.recorded_by_id IS NOT OLD.recorded_by_id OR NEW.witnessed_by_id IS NOT OLD.witnessed_by_id OR (OLD.stopped_at IS NOT NULL AND NEW.stopped_at IS NOT OLD.stopped_at)
            BEGIN SELECT RAISE(ABORT, 'chairside_doseadministration: only an empty column may be filled in, and nothing changes once the record is signed'); END""",
        """CREATE TRIGGER IF NOT EXISTS chairside_checklistanswer_locked BEFORE INSERT ON chairside_checklistanswer
                WHEN (SELECT signed_at FROM chairside_chairsiderecord WHERE id = NEW.record_id) IS NOT NULL
                BEGIN SELECT RAISE(ABORT, 'chairside_checklistanswer: the record is signed; add an addendum'); END""",
        """CREATE TRIGGER IF NOT EXISTS chairside_vitalreading_locked BEFORE INSERT ON chairside_vitalreading
                WHEN (SELECT signed_at FROM chairside_chairsiderecord WHERE id = NEW.record_id) IS NOT NULL
                BEGIN SELECT RAISE(ABORT, 'chairside_vitalreading: the record is signed; add an addendum'); END""",
        """CREATE TRIGGER IF NOT EXISTS chairside_proceeddecision_locked BEFORE INSERT ON chairside_proceeddecision
                WHEN (SELECT signed_at FROM chairside_chairsiderecord WHERE id = NEW.record_id) IS NOT NULL
                BEGIN SELECT RAISE(ABORT, 'chairside_proceeddecision: the record is signed; add an addendum'); END""",
        """CREATE TRIGGER IF NOT EXISTS chairside_doseadministration_locked BEFORE INSERT ON chairside_doseadministration
                WHEN (SELECT signed_at FROM chairside_chairsiderecord WHERE id = NEW.record_id) IS NOT NULL
                BEGIN SELECT RAISE(ABORT, 'chairside_doseadministration: the record is signed; add an addendum'); END""",
        """CREATE TRIGGER IF NOT EXISTS chairside_dissociationrating_locked BEFORE INSERT ON chairside_dissociationrating
                WHEN (SELECT signed_at FROM chairside_chairsiderecord WHERE id = NEW.record_id) IS NOT NULL
                BEGIN SELECT RAISE(ABORT, 'chairside_dissociationrating: the record is signed; add an addendum'); END""",
        """CREATE TRIGGER IF NOT EXISTS chairside_adverseevent_locked BEFORE INSERT ON chairside_adverseevent
                WHEN (SELECT signed_at FROM chairside_chairsiderecord WHERE id = NEW.record_id) IS NOT NULL
                BEGIN SELECT RAISE(ABORT, 'chairside_adverseevent: the record is signed; add an addendum'); END""",
        """CREATE TRIGGER IF NOT EXISTS chairside_sessionalert_locked BEFORE INSERT ON chairside_sessionalert
                WHEN (SELECT signed_at FROM chairside_chairsiderecord WHERE id = NEW.record_id) IS NOT NULL
                BEGIN SELECT RAISE(ABORT, 'chairside_sessionalert: the record is signed; add an addendum'); END""",
        """CREATE TRIGGER IF NOT EXISTS chairside_dischargesignoff_locked BEFORE INSERT ON chairside_dischargesignoff
                WHEN (SELECT signed_at FROM chairside_chairsiderecord WHERE id = NEW.record_id) IS NOT NULL
                BEGIN SELECT RAISE(ABORT, 'chairside_dischargesignoff: the record is signed; add an addendum'); END""",
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER chairside_checklistanswer_append_only BEFORE UPDATE OR DELETE ON chairside_checklistanswer
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER chairside_vitalreading_append_only BEFORE UPDATE OR DELETE ON chairside_vitalreading
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER chairside_vitalstrike_append_only BEFORE UPDATE OR DELETE ON chairside_vitalstrike
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER chairside_proceeddecision_append_only BEFORE UPDATE OR DELETE ON chairside_proceeddecision
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER chairside_dissociationrating_append_only BEFORE UPDATE OR DELETE ON chairside_dissociationrating
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER chairside_adverseevent_append_only BEFORE UPDATE OR DELETE ON chairside_adverseevent
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER chairside_sessionalert_append_only BEFORE UPDATE OR DELETE ON chairside_sessionalert
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER chairside_sessionalertacknowledgement_append_only BEFORE UPDATE OR DELETE ON chairside_sessionalertacknowledgement
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER chairside_dischargesignoff_append_only BEFORE UPDATE OR DELETE ON chairside_dischargesignoff
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE FUNCTION kapstone_append_only() RETURNS trigger AS $$
               BEGIN
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                   USING ERRCODE = 'insufficient_privilege';
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER chairside_sessionaddendum_append_only BEFORE UPDATE OR DELETE ON chairside_sessionaddendum
                FOR EACH ROW EXECUTE FUNCTION kapstone_append_only()""",
        """CREATE OR REPLACE FUNCTION chairside_chairsiderecord_write_once() RETURNS trigger AS $$
           BEGIN
             IF OLD.signed_at IS NOT NULL OR (to_jsonb(NEW) - ARRAY['discharged_at', 'signed_at', 'signed_by_id']) <> (to_jsonb(OLD) - ARRAY['discharged_at', 'signed_at', 'signed_by_id']) OR (OLD.discharged_at IS NOT NULL AND NEW.discharged_at IS DISTINCT FROM OLD.discharged_at) OR (OLD.signed_at IS NOT NULL AND NEW.signed_at IS DISTINCT FROM OLD.signed_at) OR (OLD.signed_by_id IS NOT NULL AND NEW.signed_by_id IS DISTINCT FROM OLD.signed_by_id) THEN
               RAISE EXCEPTION '%: only an empty column may be filled in, and nothing changes once the record is signed', TG_TABLE_NAME
                 USING ERRCODE = 'insufficient_privilege';
             END IF;
             RETURN NEW;
           END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER chairside_chairsiderecord_write_once BEFORE UPDATE ON chairside_chairsiderecord
            FOR EACH ROW EXECUTE FUNCTION chairside_chairsiderecord_write_once()""",
        """CREATE OR REPLACE FUNCTION chairside_doseadministration_write_once() RETURNS trigger AS $$
           BEGIN
             IF (SELECT signed_at FROM chairside_chairsiderecord WHERE id = OLD.record_id) IS NOT NULL OR (to_jsonb(NEW) - ARRAY['stopped_at']) <> (to_jsonb(OLD) - ARRAY['stopped_at']) OR (OLD.stopped_at IS NOT NULL AND NEW.stopped_at IS DISTINCT FROM OLD.stopped_at) THEN
               RAISE EXCEPTION '%: only an empty column may be filled in, and nothing changes once the record is signed', TG_TABLE_NAME
                 USING ERRCODE = 'insufficient_privilege';
             END IF;
             RETURN NEW;
           END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER chairside_doseadministration_write_once BEFORE UPDATE ON chairside_doseadministration
            FOR EACH ROW EXECUTE FUNCTION chairside_doseadministration_write_once()""",
        """CREATE OR REPLACE FUNCTION chairside_locked_after_signing() RETURNS trigger AS $$
               BEGIN
                 IF (SELECT signed_at FROM chairside_chairsiderecord WHERE id = NEW.record_id)
                    IS NOT NULL THEN
                   RAISE EXCEPTION '%: the record is signed; add an addendum', TG_TABLE_NAME
                     USING ERRCODE = 'insufficient_privilege';
                 END IF;
                 RETURN NEW;
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER chairside_checklistanswer_locked BEFORE INSERT ON chairside_checklistanswer
                FOR EACH ROW EXECUTE FUNCTION chairside_locked_after_signing()""",
        """CREATE OR REPLACE FUNCTION chairside_locked_after_signing() RETURNS trigger AS $$
               BEGIN
                 IF (SELECT signed_at FROM chairside_chairsiderecord WHERE id = NEW.record_id)
                    IS NOT NULL THEN
                   RAISE EXCEPTION '%: the record is signed; add an addendum', TG_TABLE_NAME
                     USING ERRCODE = 'insufficient_privilege';
                 END IF;
                 RETURN NEW;
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER chairside_vitalreading_locked BEFORE INSERT ON chairside_vitalreading
                FOR EACH ROW EXECUTE FUNCTION chairside_locked_after_signing()""",
        """CREATE OR REPLACE FUNCTION chairside_locked_after_signing() RETURNS trigger AS $$
               BEGIN
                 IF (SELECT signed_at FROM chairside_chairsiderecord WHERE id = NEW.record_id)
                    IS NOT NULL THEN
                   RAISE EXCEPTION '%: the record is signed; add an addendum', TG_TABLE_NAME
                     USING ERRCODE = 'insufficient_privilege';
                 END IF;
                 RETURN NEW;
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER chairside_proceeddecision_locked BEFORE INSERT ON chairside_proceeddecision
                FOR EACH ROW EXECUTE FUNCTION chairside_locked_after_signing()""",
        """CREATE OR REPLACE FUNCTION chairside_locked_after_signing() RETURNS trigger AS $$
               BEGIN
                 IF (SELECT signed_at FROM chairside_chairsiderecord WHERE id = NEW.record_id)
                    IS NOT NULL THEN
                   RAISE EXCEPTION '%: the record is signed; add an addendum', TG_TABLE_NAME
                     USING ERRCODE = 'insufficient_privilege';
                 END IF;
                 RETURN NEW;
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER chairside_doseadministration_locked BEFORE INSERT ON chairside_doseadministration
                FOR EACH ROW EXECUTE FUNCTION chairside_locked_after_signing()""",
        """CREATE OR REPLACE FUNCTION chairside_locked_after_signing() RETURNS trigger AS $$
               BEGIN
                 IF (SELECT signed_at FROM chairside_chairsiderecord WHERE id = NEW.record_id)
                    IS NOT NULL THEN
                   RAISE EXCEPTION '%: the record is signed; add an addendum', TG_TABLE_NAME
                     USING ERRCODE = 'insufficient_privilege';
                 END IF;
                 RETURN NEW;
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER chairside_dissociationrating_locked BEFORE INSERT ON chairside_dissociationrating
                FOR EACH ROW EXECUTE FUNCTION chairside_locked_after_signing()""",
        """CREATE OR REPLACE FUNCTION chairside_locked_after_signing() RETURNS trigger AS $$
               BEGIN
                 IF (SELECT signed_at FROM chairside_chairsiderecord WHERE id = NEW.record_id)
                    IS NOT NULL THEN
                   RAISE EXCEPTION '%: the record is signed; add an addendum', TG_TABLE_NAME
                     USING ERRCODE = 'insufficient_privilege';
                 END IF;
                 RETURN NEW;
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER chairside_adverseevent_locked BEFORE INSERT ON chairside_adverseevent
                FOR EACH ROW EXECUTE FUNCTION chairside_locked_after_signing()""",
        """CREATE OR REPLACE FUNCTION chairside_locked_after_signing() RETURNS trigger AS $$
               BEGIN
                 IF (SELECT signed_at FROM chairside_chairsiderecord WHERE id = NEW.record_id)
                    IS NOT NULL THEN
                   RAISE EXCEPTION '%: the record is signed; add an addendum', TG_TABLE_NAME
                     USING ERRCODE = 'insufficient_privilege';
                 END IF;
                 RETURN NEW;
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER chairside_sessionalert_locked BEFORE INSERT ON chairside_sessionalert
                FOR EACH ROW EXECUTE FUNCTION chairside_locked_after_signing()""",
        """CREATE OR REPLACE FUNCTION chairside_locked_after_signing() RETURNS trigger AS $$
               BEGIN
                 IF (SELECT signed_at FROM chairside_chairsiderecord WHERE id = NEW.record_id)
                    IS NOT NULL THEN
                   RAISE EXCEPTION '%: the record is signed; add an addendum', TG_TABLE_NAME
                     USING ERRCODE = 'insufficient_privilege';
                 END IF;
                 RETURN NEW;
               END $$ LANGUAGE plpgsql""",
        """CREATE OR REPLACE TRIGGER chairside_dischargesignoff_locked BEFORE INSERT ON chairside_dischargesignoff
                FOR EACH ROW EXECUTE FUNCTION chairside_locked_after_signing()""",
    ],
}

BACKWARDS = {
    "sqlite": [
        """DROP TRIGGER IF EXISTS chairside_checklistanswer_append_only_update""",
        """DROP TRIGGER IF EXISTS chairside_checklistanswer_append_only_delete""",
        """DROP TRIGGER IF EXISTS chairside_vitalreading_append_only_update""",
        """DROP TRIGGER IF EXISTS chairside_vitalreading_append_only_delete""",
        """DROP TRIGGER IF EXISTS chairside_vitalstrike_append_only_update""",
        """DROP TRIGGER IF EXISTS chairside_vitalstrike_append_only_delete""",
        """DROP TRIGGER IF EXISTS chairside_proceeddecision_append_only_update""",
        """DROP TRIGGER IF EXISTS chairside_proceeddecision_append_only_delete""",
        """DROP TRIGGER IF EXISTS chairside_dissociationrating_append_only_update""",
        """DROP TRIGGER IF EXISTS chairside_dissociationrating_append_only_delete""",
        """DROP TRIGGER IF EXISTS chairside_adverseevent_append_only_update""",
        """DROP TRIGGER IF EXISTS chairside_adverseevent_append_only_delete""",
        """DROP TRIGGER IF EXISTS chairside_sessionalert_append_only_update""",
        """DROP TRIGGER IF EXISTS chairside_sessionalert_append_only_delete""",
        """DROP TRIGGER IF EXISTS chairside_sessionalertacknowledgement_append_only_update""",
        """DROP TRIGGER IF EXISTS chairside_sessionalertacknowledgement_append_only_delete""",
        """DROP TRIGGER IF EXISTS chairside_dischargesignoff_append_only_update""",
        """DROP TRIGGER IF EXISTS chairside_dischargesignoff_append_only_delete""",
        """DROP TRIGGER IF EXISTS chairside_sessionaddendum_append_only_update""",
        """DROP TRIGGER IF EXISTS chairside_sessionaddendum_append_only_delete""",
        """DROP TRIGGER IF EXISTS chairside_chairsiderecord_write_once""",
        """DROP TRIGGER IF EXISTS chairside_doseadministration_write_once""",
        """DROP TRIGGER IF EXISTS chairside_checklistanswer_locked""",
        """DROP TRIGGER IF EXISTS chairside_vitalreading_locked""",
        """DROP TRIGGER IF EXISTS chairside_proceeddecision_locked""",
        """DROP TRIGGER IF EXISTS chairside_doseadministration_locked""",
        """DROP TRIGGER IF EXISTS chairside_dissociationrating_locked""",
        """DROP TRIGGER IF EXISTS chairside_adverseevent_locked""",
        """DROP TRIGGER IF EXISTS chairside_sessionalert_locked""",
        """DROP TRIGGER IF EXISTS chairside_dischargesignoff_locked""",
    ],
    "postgresql": [
        """DROP TRIGGER IF EXISTS chairside_checklistanswer_append_only ON chairside_checklistanswer""",
        """DROP TRIGGER IF EXISTS chairside_vitalreading_append_only ON chairside_vitalreading""",
        """DROP TRIGGER IF EXISTS chairside_vitalstrike_append_only ON chairside_vitalstrike""",
        """DROP TRIGGER IF EXISTS chairside_proceeddecision_append_only ON chairside_proceeddecision""",
        """DROP TRIGGER IF EXISTS chairside_dissociationrating_append_only ON chairside_dissociationrating""",
        """DROP TRIGGER IF EXISTS chairside_adverseevent_append_only ON chairside_adverseevent""",
        """DROP TRIGGER IF EXISTS chairside_sessionalert_append_only ON chairside_sessionalert""",
        """DROP TRIGGER IF EXISTS chairside_sessionalertacknowledgement_append_only ON chairside_sessionalertacknowledgement""",
        """DROP TRIGGER IF EXISTS chairside_dischargesignoff_append_only ON chairside_dischargesignoff""",
        """DROP TRIGGER IF EXISTS chairside_sessionaddendum_append_only ON chairside_sessionaddendum""",
        """DROP TRIGGER IF EXISTS chairside_chairsiderecord_write_once ON chairside_chairsiderecord""",
        """DROP TRIGGER IF EXISTS chairside_doseadministration_write_once ON chairside_doseadministration""",
        """DROP TRIGGER IF EXISTS chairside_checklistanswer_locked ON chairside_checklistanswer""",
        """DROP TRIGGER IF EXISTS chairside_vitalreading_locked ON chairside_vitalreading""",
        """DROP TRIGGER IF EXISTS chairside_proceeddecision_locked ON chairside_proceeddecision""",
        """DROP TRIGGER IF EXISTS chairside_doseadministration_locked ON chairside_doseadministration""",
        """DROP TRIGGER IF EXISTS chairside_dissociationrating_locked ON chairside_dissociationrating""",
        """DROP TRIGGER IF EXISTS chairside_adverseevent_locked ON chairside_adverseevent""",
        """DROP TRIGGER IF EXISTS chairside_sessionalert_locked ON chairside_sessionalert""",
        """DROP TRIGGER IF EXISTS chairside_dischargesignoff_locked ON chairside_dischargesignoff""",
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
    dependencies = [('chairside', '0001_initial')]
    operations = [migrations.RunPython(_run(FORWARDS), _run(BACKWARDS))]
