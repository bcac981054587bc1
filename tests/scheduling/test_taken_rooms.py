"""Rooms already booked outside a solve (``Room.taken``): the solver and greedy keep out of them,
and the checker catches a schedule that does not."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta

from kapstone.scheduling.checker import Constraint, check
from kapstone.scheduling.greedy import greedy_schedule
from kapstone.scheduling.instance import Window
from kapstone.scheduling.model import solve
from tests.scheduling.test_checker import at, clinic, valid
from tests.scheduling.test_model import MONDAY, req, tiny_clinic


def test_a_booking_in_a_taken_room_is_caught() -> None:
    instance = clinic()
    taken = Window(at(0, 10), at(0, 12))  # pA's first dose is in iv1 09:00-11:00 (+15 min)
    rooms = tuple(replace(r, taken=(taken,)) if r.id == "iv1" else r for r in instance.rooms)
    violations = check(replace(instance, rooms=rooms), valid())
    assert {v.constraint for v in violations} == {Constraint.ROOM_DOUBLE_BOOKED}
    assert "already taken" in violations[0].message


def test_solver_and_greedy_keep_out_of_taken_times() -> None:
    # The only chair is taken every weekday morning until 13:00: every dose starts after it.
    mornings = tuple(
        Window(
            datetime.combine(MONDAY + timedelta(days=d), time(0)),
            datetime.combine(MONDAY + timedelta(days=d), time(13)),
        )
        for d in range(7)
    )
    base = tiny_clinic((req("ann"),))
    instance = replace(base, rooms=tuple(replace(r, taken=mornings) for r in base.rooms))
    for schedule in (solve(instance, time_limit_s=3).schedule, greedy_schedule(instance)):
        assert schedule.admitted == {"ann"}
        assert check(instance, schedule) == []
        assert all(b.start.time() >= time(13) for b in schedule.dosing)
