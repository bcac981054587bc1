"""The chair-side tables' database guards: clinical rows refuse UPDATE and DELETE, the record's and a
dose's later columns are filled in once, and nothing joins a signed record except a strike-through,
an acknowledgement or an addendum. Raw SQL, as someone with database access would try."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from kapstone.chairside.models import (
    ChairsideRecord,
    DoseAdministration,
    SessionAddendum,
    VitalReading,
    VitalStrike,
)
from kapstone.chairside.selectors import dose_and_dissociation
from kapstone.dosing.models import DosingSession


def _record(clinic) -> ChairsideRecord:
    now = timezone.now()
    session = DosingSession.objects.create(
        patient=clinic.on_team,
        site=clinic.sites[0],
        route="iv",
        starts_at=now - dt.timedelta(hours=2),
        ends_at=now,
        booked_at=now - dt.timedelta(days=2),
    )
    return ChairsideRecord.objects.create(
        session=session,
        opened_at=now - dt.timedelta(hours=2),
        opened_by=clinic.staff["nurse"],
        route="iv",
        protocol_id="iv-infusion-default",
        policy_version="default-2026-11",
        checklist_policy_version="default-2026-11",
    )


def _reading(record, by, **values) -> VitalReading:
    now = timezone.now()
    base = dict(systolic=120, diastolic=80, heart_rate=70, spo2=98, respiratory_rate=14)
    base.update(values)
    return VitalReading.objects.create(
        record=record, taken_at=now, recorded_by=by, recorded_at=now, **base
    )


def _refused(sql: str, params: list) -> None:
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_readings_refuse_update_and_delete(clinic):
    record = _record(clinic)
    reading = _reading(record, clinic.staff["nurse"])
    _refused("UPDATE chairside_vitalreading SET systolic = 200 WHERE id = %s", [reading.pk])
    _refused("DELETE FROM chairside_vitalreading WHERE id = %s", [reading.pk])
    reading.refresh_from_db()
    assert reading.systolic == 120


def test_record_columns_are_filled_in_once_and_frozen_by_the_signature(clinic):
    record = _record(clinic)
    nurse = clinic.staff["nurse"]
    _refused("UPDATE chairside_chairsiderecord SET route = 'im' WHERE id = %s", [record.pk])
    now = timezone.now()
    ChairsideRecord.objects.filter(pk=record.pk).update(discharged_at=now)
    _refused(
        "UPDATE chairside_chairsiderecord SET discharged_at = %s WHERE id = %s",
        [now + dt.timedelta(minutes=1), record.pk],
    )
    ChairsideRecord.objects.filter(pk=record.pk).update(signed_at=now, signed_by=nurse)
    _refused(
        "UPDATE chairside_chairsiderecord SET signed_at = NULL, signed_by_id = NULL WHERE id = %s",
        [record.pk],
    )
    record.refresh_from_db()
    assert record.signed_at == now and record.signed_by == nurse


def test_a_dose_stops_once_and_nothing_joins_a_signed_record_but_strikes_and_addenda(clinic):
    record = _record(clinic)
    nurse = clinic.staff["nurse"]
    now = timezone.now()
    dose = DoseAdministration.objects.create(
        record=record,
        dose_mg=Decimal("35"),
        route="iv",
        started_at=now - dt.timedelta(minutes=40),
        given_by=nurse,
        recorded_by=nurse,
        recorded_at=now,
    )
    _refused("UPDATE chairside_doseadministration SET dose_mg = 50 WHERE id = %s", [dose.pk])
    DoseAdministration.objects.filter(pk=dose.pk).update(stopped_at=now)
    _refused(
        "UPDATE chairside_doseadministration SET stopped_at = %s WHERE id = %s",
        [now + dt.timedelta(minutes=1), dose.pk],
    )
    reading = _reading(record, nurse)
    ChairsideRecord.objects.filter(pk=record.pk).update(
        discharged_at=now, signed_at=now, signed_by=nurse
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        _reading(record, nurse, systolic=130)
    VitalStrike.objects.create(reading=reading, reason="Cuff on the wrong arm", by=nurse, at=now)
    SessionAddendum.objects.create(
        record=record, reason="Late entry", text="Patient ate a biscuit", by=nurse, at=now
    )
    assert record.vitals.count() == 1 and reading.strike.reason == "Cuff on the wrong arm"
    facts = dose_and_dissociation([record.session_id, 99999])
    assert list(facts) == [record.session_id]
    assert facts[record.session_id].dose_mg == Decimal("35")
    assert facts[record.session_id].dissociation_score is None
