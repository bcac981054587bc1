"""The CP-SAT scheduler: its schedules pass the independent checker, it admits every course when
capacity is ample, it never admits fewer than greedy when it proves optimality, it says why a
request cannot be met, and a re-solve after a change keeps what it can."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapstone.clinical.access import Modality, Role
from kapstone.clinical.routes import Route
from kapstone.scheduling.checker import check
from kapstone.scheduling.explain import Reason, explain, explain_unadmitted
from kapstone.scheduling.generate import generate
from kapstone.scheduling.greedy import greedy_schedule
from kapstone.scheduling.instance import (
    Instance,
    InstanceError,
    OpeningHours,
    RetreatRequest,
    Room,
    Site,
    StaffMember,
    Window,
)
from kapstone.scheduling.model import solve
from kapstone.scheduling.policy import SchedulingPolicy
from kapstone.scheduling.schedule import SolveResult, SolveStatus

MONDAY = date(2026, 11, 2)


def days(n: int, a: int, b: int, only: set[int] | None = None) -> tuple[Window, ...]:
    out = []
    for d in range(n):
        day = MONDAY + timedelta(days=d)
        if day.weekday() < 5 and (only is None or d in only):
            out.append(Window(datetime.combine(day, time(a)), datetime.combine(day, time(b))))
    return tuple(out)


def tiny_clinic(
    requests: tuple[RetreatRequest, ...],
    *,
    n_days: int = 7,
    rooms: tuple[Room, ...] | None = None,
    emdr_days: set[int] | None = None,
    policy: SchedulingPolicy | None = None,
) -> Instance:
    staff = (
        StaffMember("md", "Dr Mo", Role.PRESCRIBER, "s1", days(n_days, 8, 18)),
        StaffMember("rn", "Nurse Ria", Role.NURSE, "s1", days(n_days, 8, 18)),
        StaffMember(
            "emdr",
            "Eve (EMDR)",
            Role.THERAPIST,
            "s1",
            days(n_days, 9, 17, emdr_days),
            (),
            frozenset({Modality.EMDR}),
            "Office E",
        ),
        StaffMember(
            "cbt",
            "Cal (CBT)",
            Role.THERAPIST,
            "s1",
            days(n_days, 9, 17),
            (),
            frozenset({Modality.CBT, Modality.IFS}),
            "Office C",
        ),
    )
    return Instance(
        start=MONDAY,
        days=n_days,
        sites=(Site("s1", "Harbour", tuple(OpeningHours(w, time(8), time(18)) for w in range(5))),),
        rooms=rooms or (Room("chair", "s1", frozenset({Route.IV, Route.IM}), 15),),
        staff=staff,
        requests=requests,
        policy=policy or SchedulingPolicy(),
        slot_minutes=30,
    )


def req(pid: str, **kw: object) -> RetreatRequest:
    base: dict[str, object] = {
        "route": Route.IV,
        "doses": 3,
        "doses_per_week": 3,
        "modality": Modality.CBT,
        "integration_minutes": 60,
    }
    base.update(kw)
    return RetreatRequest(pid, pid.title(), **base)  # type: ignore[arg-type]


def test_small_generated_instance_admits_everyone_and_passes_the_checker() -> None:
    instance = generate("small", start=MONDAY, seed=1)
    result = solve(instance, time_limit_s=6)
    assert check(instance, result.schedule) == []
    assert result.schedule.admitted == {q.patient_id for q in instance.requests}
    assert result.status is SolveStatus.OPTIMAL and result.gap == 0.0
    assert result.stages[0].name == "admitted"
    assert result.policy_version == instance.policy.version


def test_each_dose_has_its_integration_inside_the_window() -> None:
    instance = tiny_clinic((req("ann"), req("bob", route=Route.IM, modality=Modality.EMDR)))
    result = solve(instance, time_limit_s=3)
    assert check(instance, result.schedule) == []
    assert result.schedule.admitted == {"ann", "bob"}
    doses = {(b.patient_id, b.session_index): b for b in result.schedule.dosing}
    for i in result.schedule.integration:
        dose = doses[(i.patient_id, i.session_index)]
        assert dose.end <= i.start <= dose.end + timedelta(hours=24)


def test_no_emdr_therapist_within_24_hours_is_explained() -> None:
    # Eve, the only EMDR therapist, works Mondays only: doses on later days have no integration.
    instance = tiny_clinic(
        (req("ann", modality=Modality.EMDR, doses=2, doses_per_week=2),), emdr_days={0}
    )
    result = solve(instance, time_limit_s=3)
    assert result.schedule.unadmitted == {"ann"}
    assert check(instance, result.schedule) == []
    (why,) = explain(instance, "ann")
    assert why.reason is Reason.NO_INTEGRATION_IN_WINDOW
    assert "no EMDR therapist is available within 24 hours of the dose on Tuesday" in why.message


def test_no_iv_chair_is_explained() -> None:
    instance = tiny_clinic((req("ann"),), rooms=(Room("im-room", "s1", frozenset({Route.IM}), 15),))
    result = solve(instance, time_limit_s=3)
    assert result.schedule.unadmitted == {"ann"}
    (why,) = explain_unadmitted(instance, result.schedule)["ann"]
    assert why.reason is Reason.NO_SUITABLE_ROOM
    assert "no IV-capable chair or room at Harbour" in why.message


def test_a_course_longer_than_the_availability_is_explained() -> None:
    instance = tiny_clinic((req("ann", doses=6, doses_per_week=3),))
    result = solve(instance, time_limit_s=3)
    assert result.schedule.unadmitted == {"ann"}
    (why,) = explain(instance, "ann")
    assert why.reason is Reason.NOT_ENOUGH_WEEKS
    assert why.message == "needs 6 sessions at 3 per week (2 weeks) but is available only 1 week"


def test_competing_courses_are_explained_as_capacity() -> None:
    # One chair, one nurse who may watch one patient: each 4-dose course fills most of the week.
    policy = SchedulingPolicy(patients_per_nurse=1)
    only_mornings = days(7, 8, 11)
    instance = tiny_clinic(
        (
            req("ann", doses=4, doses_per_week=4, available=only_mornings),
            req("bob", doses=4, doses_per_week=4, available=only_mornings),
        ),
        policy=policy,
    )
    result = solve(instance, time_limit_s=3)
    assert check(instance, result.schedule) == []
    assert len(result.schedule.admitted) == 1
    (left_out,) = result.schedule.unadmitted
    (why,) = explain(instance, left_out)
    assert why.reason is Reason.CAPACITY_TAKEN


def test_resolve_after_a_sick_therapist_keeps_most_bookings() -> None:
    instance = generate("small", start=MONDAY, seed=2)
    first = solve(instance, time_limit_s=4)
    sick_day = MONDAY + timedelta(days=2)
    therapist = first.schedule.integration[0].therapist_id
    sick = replace(
        instance,
        staff=tuple(
            replace(m, availability=tuple(w for w in m.availability if w.start.date() != sick_day))
            if m.id == therapist
            else m
            for m in instance.staff
        ),
    )
    again = solve(sick, time_limit_s=6, previous=first.schedule)
    assert check(sick, again.schedule) == []
    assert "kept bookings" in [s.name for s in again.stages]
    afresh = solve(sick, time_limit_s=6)

    def unchanged(result: SolveResult) -> int:
        before = set(first.schedule.dosing) | set(first.schedule.integration)
        return len(before & (set(result.schedule.dosing) | set(result.schedule.integration)))

    kept = next(s for s in again.stages if s.name == "kept bookings")
    assert kept.objective == unchanged(again)
    assert unchanged(again) >= unchanged(afresh)
    assert len(again.schedule.admitted) == len(afresh.schedule.admitted)


def test_bad_input_lists_every_problem() -> None:
    instance = tiny_clinic((req("ann", doses_per_week=9, doses=0, site_ids=frozenset({"x"})),))
    with pytest.raises(InstanceError) as caught:
        solve(instance, time_limit_s=1)
    where = {p.where for p in caught.value.problems}
    assert where == {"patient ann doses", "patient ann doses_per_week", "patient ann site_ids"}


@st.composite
def tiny_instances(draw: st.DrawFn) -> Instance:
    routes = [Route.IV, Route.IM]
    n_rooms = draw(st.integers(1, 2))
    rooms = tuple(
        Room(
            f"r{i}",
            "s1",
            frozenset(draw(st.lists(st.sampled_from(routes), min_size=1, max_size=2))),
            draw(st.sampled_from([0, 15, 30])),
        )
        for i in range(n_rooms)
    )
    n_days = draw(st.integers(2, 5))
    requests = tuple(
        req(
            f"p{i}",
            route=draw(st.sampled_from(routes)),
            doses=draw(st.integers(1, 3)),
            doses_per_week=draw(st.integers(1, 3)),
            modality=draw(st.sampled_from([Modality.EMDR, Modality.CBT])),
            integration_minutes=draw(st.sampled_from([60, 90])),
            min_gap_hours=draw(st.sampled_from([0, 20, 30])),
            available=days(n_days, draw(st.integers(8, 11)), draw(st.integers(13, 18))),
        )
        for i in range(draw(st.integers(1, 4)))
    )
    policy = SchedulingPolicy(
        patients_per_nurse=draw(st.integers(1, 2)),
        integration_window_hours=draw(st.sampled_from([4, 24])),
    )
    emdr_days = set(draw(st.lists(st.integers(0, n_days - 1), max_size=n_days)))
    return tiny_clinic(
        requests, n_days=n_days, rooms=rooms, emdr_days=emdr_days or None, policy=policy
    )


@settings(max_examples=15, deadline=None)
@given(tiny_instances())
def test_every_solution_passes_the_checker_and_beats_greedy_when_optimal(
    instance: Instance,
) -> None:
    result = solve(instance, time_limit_s=2, warm_start=False)
    assert check(instance, result.schedule) == []
    greedy = greedy_schedule(instance)
    assert check(instance, greedy) == []
    if result.stages and result.stages[0].status is SolveStatus.OPTIMAL:
        assert len(result.schedule.admitted) >= len(greedy.admitted)
    for pid in result.schedule.unadmitted:
        assert explain(instance, pid)
