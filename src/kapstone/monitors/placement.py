"""The one place this app meets the chair-side session (the contract with ``kapstone.chairside``).

Which record is open in a room at a moment, writing a device reading into it (graded, with its
alert) and telling the chair side that a room's monitor is alive. Everything else in this app
calls these three, so a change on the chair side changes only this module.
"""

from __future__ import annotations

import datetime as dt

from kapstone.accounts.models import Room
from kapstone.chairside import selectors
from kapstone.chairside.models import ChairsideRecord, SessionAlert, VitalReading
from kapstone.chairside.services import device_vitals


def open_record_in_room(room: Room, at: dt.datetime) -> ChairsideRecord | None:
    """The one dosing session in progress in ``room`` at ``at``, or None (none, or two: then the
    reading waits, never charted on a guess)."""
    return selectors.open_record_in_room(room, at)


def record_device_reading(
    *,
    record: ChairsideRecord,
    device_label: str,
    message_id: str,
    observed_at: dt.datetime,
    systolic: int | None,
    diastolic: int | None,
    heart_rate: int | None,
    spo2: int | None,
    respiratory_rate: int | None,
    now: dt.datetime,
) -> tuple[VitalReading, SessionAlert | None]:
    """Raises :class:`kapstone.errors.InputError` (answered AE with its text) when refused."""
    return device_vitals.record_device_reading(
        record=record,
        device_label=device_label,
        message_id=message_id,
        observed_at=observed_at,
        systolic=systolic,
        diastolic=diastolic,
        heart_rate=heart_rate,
        spo2=spo2,
        respiratory_rate=respiratory_rate,
        now=now,
    )


def note_feed_heartbeat(*, room: Room, device_label: str, at: dt.datetime) -> None:
    """The room's monitor was heard from (any message): the console's feed line reads it."""
    device_vitals.note_feed_heartbeat(room=room, device_label=device_label, at=at)
