"""Reads for the Monitors page and the listener: devices, unknown senders, waiting readings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Max, Q

from kapstone.accounts.models import Room
from kapstone.monitors.models import InboundMessage, MonitorDevice, Placement, UnknownSender

WAITING_SHOWN = 200


def _namespace(hd: str) -> str:
    """An HD field's first component (namespace id): what most administrators will type."""
    return hd.split("^", 1)[0].strip()


def device_for(sending_application: str, sending_facility: str) -> MonitorDevice | None:
    """The registered device a message's MSH-3/MSH-4 name: exactly as sent, else by namespace id;
    a device registered without a facility matches any (an exact facility wins)."""
    apps = {sending_application, _namespace(sending_application)}
    facilities = {sending_facility, _namespace(sending_facility), ""}
    found = list(
        MonitorDevice.objects.select_related("room__site").filter(
            sending_application__in=apps, sending_facility__in=facilities
        )
    )
    found.sort(
        key=lambda d: (
            d.sending_application != sending_application,
            d.sending_facility != sending_facility,
        )
    )
    return found[0] if found else None


def device_of(device_id: int) -> MonitorDevice | None:
    return MonitorDevice.objects.select_related("room__site").filter(pk=device_id).first()


@dataclass(frozen=True, slots=True)
class DeviceRow:
    device: MonitorDevice
    messages: int
    last_heard: dt.datetime | None
    waiting: int


def devices() -> list[DeviceRow]:
    rows = MonitorDevice.objects.select_related("room__site").annotate(
        n=Count("messages"),
        last=Max("messages__received_at"),
        waiting=Count("messages", filter=Q(messages__placement=Placement.WAITING)),
    )
    return [DeviceRow(d, d.n, d.last, d.waiting) for d in rows]


def unknown_senders() -> list[UnknownSender]:
    return list(UnknownSender.objects.all()[:100])


def waiting_readings() -> list[InboundMessage]:
    """Readings that came while no session was open in the device's room, newest first."""
    return list(
        InboundMessage.objects.filter(placement=Placement.WAITING)
        .select_related("device__room__site")
        .order_by("-received_at", "-pk")[:WAITING_SHOWN]
    )


def refused_messages() -> list[InboundMessage]:
    return list(
        InboundMessage.objects.filter(placement=Placement.REFUSED)
        .select_related("device")
        .order_by("-received_at", "-pk")[:50]
    )


def rooms() -> list[Room]:
    return list(Room.objects.filter(is_active=True).select_related("site"))


def message_for(device: MonitorDevice, control_id: str) -> InboundMessage | None:
    return InboundMessage.objects.filter(device=device, control_id=control_id).first()
