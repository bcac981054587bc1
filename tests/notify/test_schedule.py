"""Quiet hours and retry waits: pure rules, at their boundaries, across midnight and the clock
changes, and as properties over any instant, span and zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapstone.notify.schedule import quiet_until, retry_wait

UTC = dt.UTC
NY = ZoneInfo("America/New_York")
NIGHT = {"start": dt.time(21, 0), "end": dt.time(8, 0), "zone": NY}


def ny(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=NY)


@pytest.mark.parametrize(
    ("local", "until"),
    [
        (ny(2026, 12, 7, 20, 59), None),  # a minute before: not quiet
        (ny(2026, 12, 7, 21, 0), ny(2026, 12, 8, 8, 0)),  # the start is quiet
        (ny(2026, 12, 7, 23, 59), ny(2026, 12, 8, 8, 0)),
        (ny(2026, 12, 8, 0, 0), ny(2026, 12, 8, 8, 0)),  # after midnight: the same morning
        (ny(2026, 12, 8, 7, 59), ny(2026, 12, 8, 8, 0)),
        (ny(2026, 12, 8, 8, 0), None),  # the end is not quiet
    ],
)
def test_night_quiet_hours_across_midnight(local, until):
    assert quiet_until(now=local.astimezone(UTC), **NIGHT) == until


def test_quiet_hours_within_a_day():
    span = {"start": dt.time(13, 0), "end": dt.time(15, 0), "zone": NY}
    assert quiet_until(now=ny(2026, 12, 7, 12, 59), **span) is None
    assert quiet_until(now=ny(2026, 12, 7, 13, 0), **span) == ny(2026, 12, 7, 15, 0)
    assert quiet_until(now=ny(2026, 12, 7, 15, 0), **span) is None
    assert quiet_until(now=ny(2026, 12, 7, 23, 0), **span) is None


def test_equal_start_and_end_mean_no_quiet_hours():
    span = {"start": dt.time(8, 0), "end": dt.time(8, 0), "zone": NY}
    assert quiet_until(now=ny(2026, 12, 7, 8, 0), **span) is None


def test_the_autumn_night_is_an_hour_longer():
    # 1 November 2026, New York falls back from EDT (-4) to EST (-5) at 02:00.
    until = quiet_until(now=ny(2026, 10, 31, 22, 0), **NIGHT)
    assert until == dt.datetime(2026, 11, 1, 13, 0, tzinfo=UTC)  # 08:00 EST
    assert until - ny(2026, 10, 31, 22, 0) == dt.timedelta(hours=11)


def test_the_spring_night_is_an_hour_shorter():
    # 8 March 2026, New York springs forward from EST (-5) to EDT (-4) at 02:00.
    until = quiet_until(now=ny(2026, 3, 7, 22, 0), **NIGHT)
    assert until == dt.datetime(2026, 3, 8, 12, 0, tzinfo=UTC)  # 08:00 EDT
    assert until - ny(2026, 3, 7, 22, 0) == dt.timedelta(hours=9)


def test_an_end_the_spring_change_skips_is_read_an_hour_later():
    span = {"start": dt.time(22, 0), "end": dt.time(2, 30), "zone": NY}
    until = quiet_until(now=ny(2026, 3, 7, 23, 0), **span)
    assert until == dt.datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # 03:30 EDT, never lost
    assert until.astimezone(NY).time() == dt.time(3, 30)


def test_a_naive_instant_is_refused():
    with pytest.raises(ValueError, match="time zone"):
        quiet_until(now=dt.datetime(2026, 12, 7, 22, 0), **NIGHT)


def in_span(at: dt.time, start: dt.time, end: dt.time) -> bool:
    if start == end:
        return False
    if start < end:
        return start <= at < end
    return at >= start or at < end


ZONES = [ZoneInfo(z) for z in ("UTC", "America/New_York", "Europe/London", "Australia/Sydney")]
minutes = st.integers(0, 24 * 60 - 1).map(lambda m: dt.time(m // 60, m % 60))
instants = st.datetimes(
    min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2028, 12, 31), timezones=st.just(UTC)
)


@given(now=instants, start=minutes, end=minutes, zone=st.sampled_from(ZONES))
def test_quiet_exactly_inside_the_span_and_until_its_next_end(now, start, end, zone):
    until = quiet_until(now=now, start=start, end=end, zone=zone)
    local = now.astimezone(zone).time().replace(tzinfo=None)
    assert (until is not None) == in_span(local, start, end)
    if until is not None:
        assert now < until <= now + dt.timedelta(hours=25)
        wall = until.astimezone(zone).time()
        # The end on the wall clock, or an hour later when the spring change skipped it.
        shifted = (dt.datetime.combine(dt.date(2026, 1, 1), end) + dt.timedelta(hours=1)).time()
        assert wall in (end, shifted)


def test_retry_waits_grow_then_repeat():
    assert [retry_wait(n) for n in (1, 2, 3, 4, 5, 9)] == [
        dt.timedelta(minutes=1),
        dt.timedelta(minutes=5),
        dt.timedelta(minutes=30),
        dt.timedelta(hours=2),
        dt.timedelta(hours=2),
        dt.timedelta(hours=2),
    ]
    with pytest.raises(ValueError, match="from 1"):
        retry_wait(0)


@given(st.integers(1, 50))
def test_a_later_attempt_never_waits_less(attempts):
    assert retry_wait(attempts + 1) >= retry_wait(attempts)
