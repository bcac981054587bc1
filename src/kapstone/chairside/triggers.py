"""Database guards of the chair-side record beyond plain append-only tables (audit/triggers.py).

* Write-once columns: the record's ``discharged_at``, ``signed_at`` and ``signed_by`` and a dose's
  ``stopped_at`` start empty and may be set once; every other column never changes, and nothing in
  a record (or its doses) changes once it is signed.
* Locked after signing: no new checklist answer, reading, decision, dose, rating, adverse event,
  alert or discharge joins a signed record (a strike-through, an alert acknowledgement and an
  addendum still may). A bulk loader therefore writes a record unsigned, then its rows, then signs.

Rows of the two write-once tables are not refused DELETE here (a transactional test's flush must
empty them); their models refuse delete() and every child row holds them by a protected key.
"""

from __future__ import annotations

RECORD = "chairside_chairsiderecord"
_REFUSED = "only an empty column may be filled in, and nothing changes once the record is signed"
LOCKED_AFTER_SIGNING = (
    "chairside_checklistanswer",
    "chairside_vitalreading",
    "chairside_proceeddecision",
    "chairside_doseadministration",
    "chairside_dissociationrating",
    "chairside_adverseevent",
    "chairside_sessionalert",
    "chairside_dischargesignoff",
)


def _write_once_sqlite(table: str, columns: list[str], once: list[str], signed: str) -> list[str]:
    fixed = [c for c in columns if c not in once]
    conditions = [signed]
    conditions += [f"NEW.{c} IS NOT OLD.{c}" for c in fixed]
    conditions += [f"(OLD.{c} IS NOT NULL AND NEW.{c} IS NOT OLD.{c})" for c in once]
    return [
        f"""CREATE TRIGGER IF NOT EXISTS {table}_write_once BEFORE UPDATE ON {table}
            WHEN {" OR ".join(conditions)}
            BEGIN SELECT RAISE(ABORT, '{table}: {_REFUSED}'); END""",
    ]


def _write_once_postgres(table: str, once: list[str], signed: str) -> list[str]:
    keep = ", ".join(f"'{c}'" for c in once)
    conditions = [signed, f"(to_jsonb(NEW) - ARRAY[{keep}]) <> (to_jsonb(OLD) - ARRAY[{keep}])"]
    conditions += [f"(OLD.{c} IS NOT NULL AND NEW.{c} IS DISTINCT FROM OLD.{c})" for c in once]
    return [
        f"""CREATE OR REPLACE FUNCTION {table}_write_once() RETURNS trigger AS $$
           BEGIN
             IF {" OR ".join(conditions)} THEN
               RAISE EXCEPTION '%: {_REFUSED}', TG_TABLE_NAME
                 USING ERRCODE = 'insufficient_privilege';
             END IF;
             RETURN NEW;
           END $$ LANGUAGE plpgsql""",
        f"""CREATE OR REPLACE TRIGGER {table}_write_once BEFORE UPDATE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {table}_write_once()""",
    ]


def write_once(vendor: str, table: str, columns: list[str], once: list[str]) -> list[str]:
    if table == RECORD:
        signed = "OLD.signed_at IS NOT NULL"
    else:
        # Table names are constants of this module, never input.
        signed = f"(SELECT signed_at FROM {RECORD} WHERE id = OLD.record_id) IS NOT NULL"  # noqa: S608
    if vendor == "sqlite":
        return _write_once_sqlite(table, columns, once, signed)
    if vendor == "postgresql":
        return _write_once_postgres(table, once, signed)
    raise NotImplementedError(f"no write-once triggers written for {vendor}")


def locked_after_signing(vendor: str, table: str) -> list[str]:
    signed = f"(SELECT signed_at FROM {RECORD} WHERE id = NEW.record_id) IS NOT NULL"  # noqa: S608
    if vendor == "sqlite":
        return [
            f"""CREATE TRIGGER IF NOT EXISTS {table}_locked BEFORE INSERT ON {table}
                WHEN {signed}
                BEGIN SELECT RAISE(ABORT, '{table}: the record is signed; add an addendum'); END"""
        ]
    if vendor == "postgresql":
        return [
            """CREATE OR REPLACE FUNCTION chairside_locked_after_signing() RETURNS trigger AS $$
               BEGIN
                 IF (SELECT signed_at FROM chairside_chairsiderecord WHERE id = NEW.record_id)
                    IS NOT NULL THEN
                   RAISE EXCEPTION '%: the record is signed; add an addendum', TG_TABLE_NAME
                     USING ERRCODE = 'insufficient_privilege';
                 END IF;
                 RETURN NEW;
               END $$ LANGUAGE plpgsql""",
            f"""CREATE OR REPLACE TRIGGER {table}_locked BEFORE INSERT ON {table}
                FOR EACH ROW EXECUTE FUNCTION chairside_locked_after_signing()""",
        ]
    raise NotImplementedError(f"no signing locks written for {vendor}")


def drop(vendor: str, table: str, suffix: str) -> list[str]:
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_{suffix}"]
    return [f"DROP TRIGGER IF EXISTS {table}_{suffix} ON {table}"]
