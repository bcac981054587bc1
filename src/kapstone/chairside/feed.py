"""Whether the bedside monitor at a chair is sending: live, silent since when, or none there.

The monitor listener notes every message it gets from a room's monitor
(``services.device_vitals.note_feed_heartbeat``); the chair side reads only that row, so it does
not depend on the listener's app. When the feed is down the nurse types readings as before, and
the console says so: a quiet monitor must not pass for a calm patient.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from kapstone.chairside.models import MonitorFeedHeartbeat
from kapstone.chairside.policy import monitoring_policy


class FeedState(StrEnum):
    LIVE = "live"
    SILENT = "silent"
    NO_MONITOR = "no_monitor"


@dataclass(frozen=True)
class FeedStatus:
    state: FeedState
    device_label: str = ""
    last_message_at: dt.datetime | None = None

    @property
    def is_live(self) -> bool:
        return self.state is FeedState.LIVE


def feed_status(room_id: int | None, now: dt.datetime) -> FeedStatus:
    """The feed of the monitor at ``room_id``: silent when nothing came for longer than the
    policy's ``device.feed_silent_after``."""
    if room_id is None:
        return FeedStatus(FeedState.NO_MONITOR)
    beat = MonitorFeedHeartbeat.objects.filter(room_id=room_id).first()
    if beat is None:
        return FeedStatus(FeedState.NO_MONITOR)
    silent_after = monitoring_policy().device.feed_silent_after.value
    state = FeedState.SILENT if now - beat.last_message_at > silent_after else FeedState.LIVE
    return FeedStatus(state, beat.device_label, beat.last_message_at)
