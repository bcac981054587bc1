"""When a notification may go out: quiet hours and the waits between retries (pure: no Django,
the time is passed in).

Quiet hours are a span of the patient's local day (their site's time zone) in which nothing but a
sign-in link reaches their phone. They may cross midnight (21:00-08:00), and a night on which the
clocks change is as long as the clocks say: the end is 08:00 on the wall clock, whatever the offset.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

UTC = dt.UTC

# The waits after the 1st, 2nd, 3rd ... failed attempt: a provider's brief outage is over in
# minutes, a longer one in hours; the last wait repeats.
RETRY_WAITS = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
)


def _wall(day: dt.date, at: dt.time, zone: ZoneInfo) -> dt.datetime:
    """``at`` on ``day`` in ``zone``, as an instant: a wall time the spring change skips is read
    with the offset before the change (02:30 becomes 03:30), so it is never lost."""
    return dt.datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def quiet_until(
    *, now: dt.datetime, start: dt.time, end: dt.time, zone: ZoneInfo
) -> dt.datetime | None:
    """The instant the quiet hours around ``now`` end, or None when ``now`` is not in them.

    The span includes ``start`` and excludes ``end``; ``start == end`` means no quiet hours."""
    if now.tzinfo is None:
        raise ValueError("now must carry its time zone")
    if start == end:
        return None
    local = now.astimezone(zone)
    at = local.time().replace(tzinfo=None)
    if start < end:  # within one day (13:00-15:00)
        if start <= at < end:
            return _wall(local.date(), end, zone)
        return None
    if at >= start:  # across midnight, before it (22:30 in 21:00-08:00)
        return _wall(local.date() + dt.timedelta(days=1), end, zone)
    if at < end:  # across midnight, after it (03:00 in 21:00-08:00)
        return _wall(local.date(), end, zone)
    return None


def retry_wait(attempts: int) -> dt.timedelta:
    """How long to wait before the next attempt, after ``attempts`` failed ones (1 or more)."""
    if attempts < 1:
        raise ValueError("attempts counts failed attempts, from 1")
    return RETRY_WAITS[min(attempts, len(RETRY_WAITS)) - 1]
