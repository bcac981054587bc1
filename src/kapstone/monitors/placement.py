"""The one place this app meets the chair-side session (the contract with ``kapstone.chairside``).

Which record is open in a room at a moment, writing a device reading into it (graded, with its
alert) and telling the chair side that a room's monitor is alive. Everything else in this app
calls these three, so a change on the chair side changes only this module.
"""

from __future__ import annotations

import datetime as dt

from kapstone.accounts.models import Room
from kapstone.chairside.models import ChairsideRecord, SessionAlert, VitalReading


def open_record_in_room(room: Room, at: dt.datetime) -> ChairsideRecord | None:
    """The dosing session being charted in ``room`` at ``at``, or None (then the reading waits)."""
    return (
        ChairsideRecord.objects.filter(
            session__room=room,
            opened_at__lte=at,
            signed_at__isnull=True,
            discharged_at__isnull=True,
        )
        .order_by("-opened_at")
        .first()
    )


class PlacementUnavailable(RuntimeError):
    """The chair side cannot take device readings yet: the reading waits, listed."""


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
    raise PlacementUnavailable("the chair side does not take device readings yet")


def note_feed_heartbeat(*, room: Room, device_label: str, at: dt.datetime) -> None:
    """The room's monitor was heard from."""
