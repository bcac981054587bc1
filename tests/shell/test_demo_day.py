"""The demo clinic loads at any hour: `make run` may load it just before or just after local midnight.
What the demo holds is checked in test_demo_picture.py, on one build shared by its tests."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kapstone.demo.generator import build_demo_clinic


@pytest.mark.parametrize("clock", [dt.time(23, 50), dt.time(0, 30)], ids=["before", "after"])
def test_the_demo_loads_at_any_hour_even_around_midnight(db, clock):
    """`make run` (and CI) may load the demo at any time: a board laid out around the load time
    crosses local midnight, and every session must still be checked in and charted on its own day."""
    # Yesterday's clock (always in the past: the services refuse times still to come).
    now = timezone.make_aware(
        dt.datetime.combine(timezone.localdate() - dt.timedelta(days=1), clock)
    )
    clinic = build_demo_clinic(
        patients=4, seed=2026, today=timezone.localdate(now), history_until=now
    )
    assert clinic.patients
