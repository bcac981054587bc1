"""The demo's bedside monitor: one registered for IV chair 2, where a session is in progress when
the demo loads; ``make run`` starts the listener and a simulated monitor sending as it."""

from __future__ import annotations

import datetime as dt

from kapstone.accounts.models import Room, Site, StaffUser
from kapstone.monitors.models import MonitorDevice
from kapstone.monitors.services import register_device

DEMO_MONITOR = "DEMO_MONITOR"


def build_monitor(*, sites: list[Site], staff: dict[str, StaffUser], now: dt.datetime) -> None:
    room = Room.objects.filter(site=sites[0], name="IV chair 2").first()
    if room is None or MonitorDevice.objects.filter(sending_application=DEMO_MONITOR).exists():
        return
    register_device(
        by=staff["admin"],
        label="IV chair 2 monitor",
        sending_application=DEMO_MONITOR,
        sending_facility="",
        room=room,
        local_codes={},
        now=now,
    )
