"""Writes: registering a device, and taking one message from a monitor (one transaction each).

:func:`receive` is what the listener calls for every MLLP block, in a worker thread: it never
raises for anything a sender can send; it says what to acknowledge.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import IntegrityError, transaction
from django.utils import timezone

from kapstone.accounts.models import Room, StaffUser
from kapstone.audit.trail import record as audit
from kapstone.clinical.device_feed import Mapped, map_observations, parse_code_map
from kapstone.errors import InputError
from kapstone.monitors import hl7v2, placement, selectors
from kapstone.monitors.hl7v2 import ACCEPTED, ERROR, REJECTED, Header, Parsed, Unreadable
from kapstone.monitors.models import InboundMessage, MonitorDevice, Placement, UnknownSender

logger = logging.getLogger(__name__)

SUPPORTED = ("ORU", "R01")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What to answer, and what happened (for the log, the tests and the benchmark)."""

    code: str
    header: Header | None
    reason: str = ""
    warnings: tuple[str, ...] = ()
    error_code: str = ""
    placement: str = ""
    duplicate: bool = False
    message_id: int | None = None
    alert_id: int | None = None

    def ack(self, now: dt.datetime) -> bytes:
        return hl7v2.ack(
            self.header,
            self.code,
            now=now,
            reason=self.reason,
            warnings=self.warnings,
            error_code=self.error_code,
        )


# --- the administrator's devices ----------------------------------------------------------------


def _device_problems(
    label: str, sending_application: str, local_codes: Mapping[str, str], exclude: int | None
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not label.strip():
        errors["label"] = ["Give the device a name the nurses know it by."]
    elif (
        MonitorDevice.objects.filter(label=label.strip())
        .exclude(pk=exclude if exclude is not None else -1)
        .exists()
    ):
        errors["label"] = ["Another device already has this name."]
    if not sending_application.strip():
        errors["sending_application"] = ["Enter MSH-3 as the device sends it."]
    _, problems = parse_code_map(local_codes)
    if problems:
        errors["local_codes"] = [str(p.message) for p in problems]
    return errors


def register_device(
    *,
    by: StaffUser,
    label: str,
    sending_application: str,
    sending_facility: str,
    room: Room,
    local_codes: Mapping[str, str],
    now: dt.datetime | None = None,
) -> MonitorDevice:
    """A monitor or gateway whose messages are from now on taken for ``room``."""
    now = now or timezone.now()
    errors = _device_problems(label, sending_application, local_codes, None)
    sender = (sending_application.strip(), sending_facility.strip())
    if MonitorDevice.objects.filter(
        sending_application=sender[0], sending_facility=sender[1]
    ).exists():
        errors.setdefault("sending_application", []).append(
            "A device with this MSH-3 and MSH-4 is already registered."
        )
    if errors:
        raise InputError(errors)
    codes, _ = parse_code_map(local_codes)
    with transaction.atomic():
        device = MonitorDevice.objects.create(
            label=label.strip(),
            sending_application=sender[0],
            sending_facility=sender[1],
            room=room,
            local_codes={k: v.value for k, v in codes.items()},
            registered_at=now,
            registered_by=by,
        )
        UnknownSender.objects.filter(
            sending_application=sender[0], sending_facility=sender[1]
        ).delete()
        audit(
            actor=by,
            action="monitors.device_registered",
            obj=device,
            summary=f"Monitor {device.label} registered for {room}",
            after={"sender": list(sender), "room": room.pk, "local_codes": device.local_codes},
        )
    return device


def change_device(
    *,
    by: StaffUser,
    device: MonitorDevice,
    label: str,
    room: Room,
    local_codes: Mapping[str, str],
    is_active: bool,
) -> MonitorDevice:
    errors = _device_problems(label, device.sending_application, local_codes, device.pk)
    if errors:
        raise InputError(errors)
    codes, _ = parse_code_map(local_codes)
    before = {
        "label": device.label,
        "room": device.room_id,
        "local_codes": device.local_codes,
        "is_active": device.is_active,
    }
    with transaction.atomic():
        device.label = label.strip()
        device.room = room
        device.local_codes = {k: v.value for k, v in codes.items()}
        device.is_active = is_active
        device.save()
        audit(
            actor=by,
            action="monitors.device_changed",
            obj=device,
            summary=f"Monitor {device.label} changed",
            before=before,
            after={
                "label": device.label,
                "room": room.pk,
                "local_codes": device.local_codes,
                "is_active": is_active,
            },
        )
    return device


# --- one message --------------------------------------------------------------------------------


def _note_unknown(header: Header, received_at: dt.datetime, peer: str) -> None:
    with transaction.atomic():
        sender, _ = UnknownSender.objects.select_for_update().get_or_create(
            sending_application=header.sending_application[:180],
            sending_facility=header.sending_facility[:180],
            defaults={"first_seen": received_at, "last_seen": received_at},
        )
        sender.messages += 1
        sender.last_seen = max(sender.last_seen, received_at)
        sender.last_control_id = header.control_id[:199]
        sender.last_peer = peer[:80]
        sender.save()


def _zone(device: MonitorDevice) -> dt.tzinfo:
    try:
        return ZoneInfo(device.room.site.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.get_default_timezone()


def receive(block: bytes, *, received_at: dt.datetime, peer: str = "") -> Outcome:
    """One MLLP block from a monitor: parsed, checked, stored once, placed; the ACK to send."""
    try:
        parsed = hl7v2.parse(block)
    except Unreadable as exc:
        return Outcome(REJECTED, exc.header, exc.reason, error_code="102")
    header = parsed.header
    if not header.control_id:
        return Outcome(REJECTED, header, "MSH-10 (message control id) is empty", error_code="101")
    if (header.message_type, header.trigger_event) != SUPPORTED:
        kind = f"{header.message_type}^{header.trigger_event}"
        return Outcome(
            REJECTED, header, f"{kind} is not taken here: send ORU^R01", error_code="200"
        )
    device = selectors.device_for(header.sending_application, header.sending_facility)
    if device is None:
        _note_unknown(header, received_at, peer)
        return Outcome(
            REJECTED,
            header,
            "unknown sender: no monitor is registered in Kapstone for this MSH-3/MSH-4",
            error_code="204",
        )
    if not device.is_active:
        return Outcome(REJECTED, header, f"monitor {device.label} is switched off in Kapstone")
    try:
        return _take(device, parsed, received_at)
    except IntegrityError:
        # The same control id on two connections at once: the other one stored it.
        stored = selectors.message_for(device, header.control_id)
        if stored is not None and stored.ack_code == ACCEPTED:
            return Outcome(ACCEPTED, header, placement=stored.placement, duplicate=True)
        return Outcome(ERROR, header, "the message could not be stored; send it again")


def _problems_text(mapped: Mapped) -> tuple[str, ...]:
    return tuple(str(p) for p in mapped.problems)


def _take(device: MonitorDevice, parsed: Parsed, received_at: dt.datetime) -> Outcome:
    header = parsed.header
    with transaction.atomic():
        stored = (
            InboundMessage.objects.select_for_update()
            .filter(device=device, control_id=header.control_id)
            .first()
        )
        if stored is not None and stored.ack_code == ACCEPTED:
            return Outcome(
                ACCEPTED,
                header,
                placement=stored.placement,
                duplicate=True,
                message_id=stored.pk,
                alert_id=stored.alert_id,
            )
        message = stored or InboundMessage(device=device, control_id=header.control_id)
        message.received_at = received_at
        codes, _ = parse_code_map(device.local_codes)
        mapped = map_observations(
            parsed.observations,
            local_codes=codes,
            message_time=parsed.observation_time,
            received_at=received_at,
            zone=_zone(device),
        )
        placement.note_feed_heartbeat(room=device.room, device_label=device.label, at=received_at)
        if mapped.reading is None:
            reason = "; ".join(_problems_text(mapped)) or "no vital sign in the message"
            return _stored(message, ERROR, Placement.REFUSED, reason, header, error_code="207")
        reading = mapped.reading
        for name in ("observed_at", "systolic", "diastolic", "mean_arterial", "heart_rate"):
            setattr(message, name, getattr(reading, name))
        message.spo2 = reading.spo2
        message.respiratory_rate = reading.respiratory_rate
        record = placement.open_record_in_room(device.room, reading.observed_at)
        warnings = _problems_text(mapped)
        if record is None:
            return _waiting(message, header, warnings)
        try:
            with transaction.atomic():
                _, alert = placement.record_device_reading(
                    record=record,
                    device_label=device.label,
                    message_id=header.control_id,
                    observed_at=reading.observed_at,
                    systolic=reading.systolic,
                    diastolic=reading.diastolic,
                    heart_rate=reading.heart_rate,
                    spo2=reading.spo2,
                    respiratory_rate=reading.respiratory_rate,
                    now=received_at,
                )
        except InputError as exc:
            return _stored(message, ERROR, Placement.REFUSED, str(exc), header, error_code="207")
        message.record = record
        message.alert_id = alert.pk if alert is not None else None
        outcome = _stored(message, ACCEPTED, Placement.SESSION, "", header, warnings=warnings)
        return outcome


def _waiting(message: InboundMessage, header: Header, warnings: tuple[str, ...]) -> Outcome:
    """No session is open in the room: the reading is kept and listed, never put on a patient."""
    outcome = _stored(message, ACCEPTED, Placement.WAITING, "", header, warnings=warnings)
    audit(
        actor=None,
        action="monitors.reading_waiting",
        obj=message,
        summary=f"Reading from {message.device.label}: no session open in {message.device.room}",
    )
    return outcome


def _stored(
    message: InboundMessage,
    code: str,
    where: str,
    reason: str,
    header: Header,
    *,
    warnings: tuple[str, ...] = (),
    error_code: str = "",
) -> Outcome:
    message.ack_code = code
    message.placement = where
    message.reason = reason[:2000]
    message.save()
    return Outcome(
        code,
        header,
        reason,
        warnings,
        error_code,
        placement=where,
        message_id=message.pk,
        alert_id=message.alert_id,
    )
