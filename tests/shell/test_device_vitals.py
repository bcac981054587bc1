"""Readings from the bedside monitor through the chair-side service: stored marked as from the
monitor, graded and audited exactly like typed ones, idempotent per device and message, refused
with a reason the listener can send back; the record in progress at a chair; the feed's heartbeat.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from kapstone.accounts.models import Room
from kapstone.audit.models import AuditEntry
from kapstone.chairside import services
from kapstone.chairside.feed import FeedState, feed_status
from kapstone.chairside.models import SessionAlert, VitalReading
from kapstone.chairside.selectors import open_record_in_room
from kapstone.errors import InputError
from tests.shell.chairside_support import at, ready_to_dose, vitals


def monitor(record, when, message_id, sys=120, dia=78, hr=72, spo2=98, rr=14):  # type: ignore[no-untyped-def]
    return services.record_device_reading(
        record=record,
        device_label="MON-3",
        message_id=message_id,
        observed_at=when,
        systolic=sys,
        diastolic=dia,
        heart_rate=hr,
        spo2=spo2,
        respiratory_rate=rr,
    )


def test_a_monitor_reading_is_graded_like_a_typed_one_and_marked_as_from_the_monitor(clinic):
    record = ready_to_dose(clinic)
    nurse = clinic.staff["nurse"]
    session = record.session
    services.give_dose(by=nurse, record=record, dose_mg=Decimal(35), started_at=at(session, 15))
    calm, none = monitor(record, at(session, 25), "m-1", sys=128, dia=80)
    assert none is None and calm.from_monitor and not calm.is_verified
    assert calm.recorded_by is None and calm.device_label == "MON-3"
    assert calm.device_message_id == "m-1" and calm.device_verdict == "accepted"
    assert calm.device_policy_version  # the artifact policy's version is kept with it
    reading, alert = monitor(record, at(session, 35), "m-2", sys=162, dia=84)
    # The same rules as a typed 162/84 (test_chairside_services): the shared grading path.
    assert alert is not None and alert.reading == reading
    assert {r["rule_id"] for r in alert.rules} == {"sbp.rise.pause", "sbp.high.recheck"}
    entry = AuditEntry.objects.filter(action="chairside.vitals_recorded").latest("seq")
    assert entry.actor_id is None and entry.actor_label == "system"
    assert entry.after["source"] == "device" and entry.after["device"] == "MON-3"
    assert "from monitor MON-3" in entry.summary


def test_a_resent_message_stores_nothing_and_returns_the_first_reading(clinic):
    record = ready_to_dose(clinic)
    session = record.session
    first = monitor(record, at(session, 20), "m-9", sys=185, dia=95)
    readings, alerts, entries = (
        VitalReading.objects.count(),
        SessionAlert.objects.count(),
        AuditEntry.objects.count(),
    )
    again = monitor(record, at(session, 20), "m-9", sys=185, dia=95)
    assert again == first and first[1] is not None
    assert VitalReading.objects.count() == readings
    assert SessionAlert.objects.count() == alerts and AuditEntry.objects.count() == entries


def test_refusals_name_what_is_wrong_and_write_nothing(clinic):
    record = ready_to_dose(clinic)
    session = record.session
    before = VitalReading.objects.count()
    with pytest.raises(InputError) as refused:
        monitor(record, at(session, 20), "m-1", sys=400)
    assert list(refused.value.errors) == ["systolic"]
    with pytest.raises(InputError) as refused:
        services.record_device_reading(
            record=record,
            device_label="MON-3",
            message_id="m-2",
            observed_at=at(session, 20),
            systolic=None,
            diastolic=None,
            heart_rate=70,
            spo2=97,
            respiratory_rate=14,
        )
    assert "has no systolic pressure" in str(refused.value)
    with pytest.raises(InputError) as refused:
        monitor(record, timezone.now() + dt.timedelta(hours=1), "m-3")
    assert refused.value.errors == {"observed_at": ["That time is in the future."]}
    with pytest.raises(InputError, match="gives no message id"):
        monitor(record, at(session, 20), " ")
    assert VitalReading.objects.count() == before


def test_the_record_in_progress_in_a_room_and_none_when_it_is_unclear(clinic):
    record = ready_to_dose(clinic)
    session = record.session
    room = Room.objects.create(site=session.site, name="Chair 3", routes=["iv"])
    assert open_record_in_room(room, timezone.now()) is None  # the session is in no room yet
    type(session).objects.filter(pk=session.pk).update(room=room)
    assert open_record_in_room(room, timezone.now()) == record
    assert open_record_in_room(room.pk, record.opened_at - dt.timedelta(minutes=1)) is None


def test_the_heartbeat_says_live_then_silent_and_no_monitor_elsewhere(clinic):
    record = ready_to_dose(clinic)
    room = Room.objects.create(site=record.session.site, name="Chair 4", routes=["iv"])
    now = timezone.now()
    assert feed_status(room.pk, now).state is FeedState.NO_MONITOR
    assert feed_status(None, now).state is FeedState.NO_MONITOR
    services.note_feed_heartbeat(room=room, device_label="MON-4", at=now)
    services.note_feed_heartbeat(room=room, device_label="MON-4", at=now - dt.timedelta(minutes=5))
    live = feed_status(room.pk, now + dt.timedelta(seconds=30))
    assert live.state is FeedState.LIVE and live.last_message_at == now
    assert feed_status(room.pk, now + dt.timedelta(seconds=61)).state is FeedState.SILENT


def test_typed_readings_still_need_their_recorder(clinic):
    record = ready_to_dose(clinic)
    reading, _ = vitals(record, clinic.staff["nurse"], at(record.session, 8))
    assert reading.source == "typed" and reading.is_verified and not reading.from_monitor


def test_a_discharged_or_signed_record_takes_no_monitor_reading(clinic):
    from kapstone.chairside.models import ChairsideRecord

    record = ready_to_dose(clinic)
    session = record.session
    ChairsideRecord.objects.filter(pk=record.pk).update(discharged_at=at(session, 30))
    record.refresh_from_db()
    with pytest.raises(InputError, match="patient is discharged"):
        monitor(record, at(session, 31), "late-1")
    ChairsideRecord.objects.filter(pk=record.pk).update(
        signed_at=at(session, 40), signed_by=clinic.staff["nurse"]
    )
    record.refresh_from_db()
    with pytest.raises(InputError, match="signed and locked"):
        monitor(record, at(session, 41), "late-2")
