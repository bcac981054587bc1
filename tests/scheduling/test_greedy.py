"""The greedy first-fit baseline: valid schedules, reproducible, and beaten by the solver when the
order of requests matters."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from kapstone.clinical.access import Modality, Role
from kapstone.clinical.routes import Route
from kapstone.scheduling.checker import check
from kapstone.scheduling.generate import generate
from kapstone.scheduling.greedy import greedy_schedule
from kapstone.scheduling.instance import (
    Instance,
    OpeningHours,
    RetreatRequest,
    Room,
    Site,
    StaffMember,
    Window,
)
from kapstone.scheduling.model import solve
from kapstone.scheduling.policy import SchedulingPolicy

MONDAY = date(2026, 11, 2)


def weekdays(a: int, b: int) -> tuple[Window, ...]:
    return tuple(
        Window(
            datetime.combine(MONDAY + timedelta(days=d), time(a)),
            datetime.combine(MONDAY + timedelta(days=d), time(b)),
        )
        for d in range(5)
    )


def one_chair_mornings(requests: tuple[RetreatRequest, ...]) -> Instance:
    """One IV chair, one nurse for one patient, patients free 8-11: one dose a morning in all."""
    return Instance(
        start=MONDAY,
        days=7,
        sites=(Site("s1", "Harbour", tuple(OpeningHours(w, time(8), time(18)) for w in range(5))),),
        rooms=(Room("chair", "s1", frozenset({Route.IV}), 15),),
        staff=(
            StaffMember("md", "Dr Mo", Role.PRESCRIBER, "s1", weekdays(8, 18)),
            StaffMember("rn", "Nurse Ria", Role.NURSE, "s1", weekdays(8, 18)),
            StaffMember(
                "th",
                "Cal",
                Role.THERAPIST,
                "s1",
                weekdays(9, 17),
                (),
                frozenset({Modality.CBT}),
                "Office C",
            ),
        ),
        requests=requests,
        policy=SchedulingPolicy(patients_per_nurse=1),
        slot_minutes=30,
    )


def course(pid: str, doses: int) -> RetreatRequest:
    return RetreatRequest(
        pid,
        pid.title(),
        Route.IV,
        doses,
        doses,
        Modality.CBT,
        integration_minutes=60,
        available=weekdays(8, 11),
    )


@pytest.mark.parametrize("size", ["small", "medium"])
def test_greedy_schedules_pass_the_checker(size: str) -> None:
    instance = generate(size, start=MONDAY, seed=3)
    schedule = greedy_schedule(instance)
    assert check(instance, schedule) == []
    assert schedule.admitted
    assert schedule.admitted | schedule.unadmitted == {q.patient_id for q in instance.requests}


def test_greedy_is_reproducible() -> None:
    instance = generate("medium", start=MONDAY, seed=4)
    assert greedy_schedule(instance) == greedy_schedule(instance)


def test_greedy_books_first_come_first_served_and_the_solver_does_better() -> None:
    # A four-dose course asked first takes Monday to Thursday; two two-dose courses then cannot
    # both fit into Friday. Admitting the two short courses instead books two patients.
    instance = one_chair_mornings((course("ann", 4), course("bob", 2), course("cat", 2)))
    greedy = greedy_schedule(instance)
    assert greedy.admitted == {"ann"}
    assert check(instance, greedy) == []
    result = solve(instance, time_limit_s=3, warm_start=False)
    assert check(instance, result.schedule) == []
    assert result.schedule.admitted == {"bob", "cat"}


def test_a_course_that_does_not_fit_leaves_no_bookings_behind() -> None:
    instance = one_chair_mornings((course("ann", 4), course("bob", 2)))
    greedy = greedy_schedule(instance)
    assert greedy.unadmitted == {"bob"}
    assert all(b.patient_id == "ann" for b in (*greedy.dosing, *greedy.integration))
