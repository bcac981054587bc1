"""Readings from the bedside monitor, as the monitor listener hands them over, and its heartbeat.

The listener (kapstone.monitors) finds the session in progress at the monitor's chair
(``chairside.selectors.open_record_in_room``) and calls :func:`record_device_reading` with the
message's values. A reading takes the same path as a typed one (``vitals.write_graded_reading``:
graded by the core's alert engine under the director's policy, alert and audit row in the same
transaction), after the artifact policy (kapstone.clinical.device_artifacts) has judged it against
the monitor's earlier readings. It waits, marked as from the monitor, for the nurse to verify it.

Refusals are :class:`InputError` s worded for the sender: the listener answers the message with
an HL7 application error carrying the text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from kapstone.accounts.models import Room, StaffUser
from kapstone.chairside import facts
from kapstone.chairside.models import (
    ChairsideRecord,
    MonitorFeedHeartbeat,
    SessionAlert,
    VitalReading,
    VitalSource,
    VitalVerification,
)
from kapstone.chairside.policy import monitoring_policy
from kapstone.chairside.services._common import (
    _audit_chart,
    _charting,
    _time_problems,
    _unsigned,
    _validated,
)
from kapstone.chairside.services.vitals import FromMonitor, write_graded_reading
from kapstone.clinical.device_artifacts import judge_device_reading
from kapstone.clinical.vital_signs import validate_reading
from kapstone.errors import InputError

_LABEL_MAX = 80
_VALUES = {
    "systolic": "systolic pressure",
    "diastolic": "diastolic pressure",
    "heart_rate": "heart rate",
    "spo2": "SpO2",
    "respiratory_rate": "respiratory rate",
}


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
    now: dt.datetime | None = None,
) -> tuple[VitalReading, SessionAlert | None]:
    """One monitor reading charted on ``record``: stored marked as from ``device_label``, judged
    by the artifact policy, graded like a typed reading; returns it and any alert raised.

    The same (device_label, message_id) twice (a resent message) returns the stored reading and
    its alert and writes nothing. Every value is needed: the core grades whole readings, so a
    message without, say, its cuff pressure is refused rather than completed by a guess.
    """
    now = now or timezone.now()
    device_label = (device_label or "").strip()
    message_id = (message_id or "").strip()
    errors: dict[str, list[str]] = {}
    for field, text, name in (
        ("device_label", device_label, "device"),
        ("message_id", message_id, "message id"),
    ):
        if not text:
            errors[field] = [f"The monitor's message gives no {name}."]
        elif len(text) > _LABEL_MAX:
            errors[field] = [f"The {name} is longer than {_LABEL_MAX} characters."]
    if not errors and (known := _already_stored(device_label, message_id)) is not None:
        return known
    values = {
        "systolic": systolic,
        "diastolic": diastolic,
        "heart_rate": heart_rate,
        "spo2": spo2,
        "respiratory_rate": respiratory_rate,
    }
    for field, value in values.items():
        if value is None:
            errors[field] = [
                f"The monitor's message has no {_VALUES[field]}: a reading needs all five values."
            ]
    errors |= _unsigned(record)
    if not errors.get("") and record.discharged_at is not None:
        errors[""] = [
            "This session's patient is discharged: a monitor reading no longer joins the record."
        ]
    reading = None
    if not errors:
        reading = _validated(
            lambda: validate_reading(
                taken_at=observed_at,
                systolic_mmhg=systolic,
                diastolic_mmhg=diastolic,
                heart_rate_bpm=heart_rate,
                spo2_percent=spo2,
                respiratory_rate_per_min=respiratory_rate,
                limits=monitoring_policy().plausibility,
            ),
            errors,
        )
        errors = {("observed_at" if k == "taken_at" else k): v for k, v in errors.items()}
    if reading is not None:
        errors |= _time_problems("observed_at", reading.taken_at, record, now)
    with _charting(record, errors) as locked:
        assert reading is not None
        # Checked again under the record's lock: two copies of one message may race.
        if (known := _already_stored(device_label, message_id)) is not None:
            return known
        if locked.discharged_at is not None:
            raise InputError.single(
                "", "This session's patient is discharged: a monitor reading no longer joins it."
            )
        decision = judge_device_reading(
            reading, facts.device_samples(locked, reading.taken_at), monitoring_policy()
        )
        return write_graded_reading(
            locked=locked,
            reading=reading,
            by=None,
            now=now,
            monitor=FromMonitor(
                device_label=device_label, message_id=message_id, decision=decision
            ),
        )


def _already_stored(
    device_label: str, message_id: str
) -> tuple[VitalReading, SessionAlert | None] | None:
    row = VitalReading.objects.filter(
        source=VitalSource.DEVICE, device_label=device_label, device_message_id=message_id
    ).first()
    if row is None:
        return None
    return row, row.alerts.order_by("pk").first()


def note_feed_heartbeat(*, room: Room, device_label: str, at: dt.datetime) -> MonitorFeedHeartbeat:
    """The monitor at ``room`` sent a message at ``at`` (any message: a reading, a keep-alive, one
    for no session): the console's "monitor feed" line reads this. Never moves backwards, so a
    late, out-of-order message cannot make a silent feed look live. Not audited: it is not a
    chart entry, and the listener calls it for every message."""
    with transaction.atomic():
        beat, created = MonitorFeedHeartbeat.objects.select_for_update().get_or_create(
            room=room, defaults={"device_label": device_label, "last_message_at": at}
        )
        if not created and (at > beat.last_message_at or device_label != beat.device_label):
            beat.device_label = device_label
            beat.last_message_at = max(at, beat.last_message_at)
            beat.save(update_fields=["device_label", "last_message_at"])
    return beat


def verify_device_readings(
    *,
    by: StaffUser,
    record: ChairsideRecord,
    reading_ids: Iterable[int],
    now: dt.datetime | None = None,
) -> list[VitalVerification]:
    """The nurse has checked the monitor readings she was shown (``reading_ids``) against the
    patient: one tap verifies them all, one row each and one audit entry naming them. Only the
    readings shown: one that arrived after the screen was drawn waits for the next tap.

    Struck readings need no verifying (they count for nothing); allowed until the record is signed,
    which needs it (services.signing)."""
    now = now or timezone.now()
    ids = sorted(set(reading_ids))
    with _charting(record, _unsigned(record)) as locked:
        # The record's lock serialises verifications, so two taps cannot verify a reading twice.
        waiting = {r.pk: r for r in unverified_device_readings(locked).filter(pk__in=ids)}
        if not waiting:
            raise InputError.single(
                "", "No monitor reading shown here is waiting for verification any more."
            )
        rows = [
            VitalVerification.objects.create(reading=r, by=by, at=now) for r in waiting.values()
        ]
        times = ", ".join(f"{timezone.localtime(r.taken_at):%H:%M}" for r in waiting.values())
        _audit_chart(
            by=by,
            record=locked,
            action="chairside.device_vitals_verified",
            obj=locked,
            summary=f"{len(rows)} monitor reading(s) verified: {times}",
            after={"readings": sorted(waiting), "at": now},
        )
    return rows


def unverified_device_readings(record: ChairsideRecord) -> QuerySet[VitalReading]:
    """Monitor readings of the record the nurse has not verified, struck ones aside."""
    return record.vitals.filter(
        source=VitalSource.DEVICE, verification__isnull=True, strike__isnull=True
    ).order_by("taken_at", "pk")
