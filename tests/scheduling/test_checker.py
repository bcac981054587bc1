"""The checker on a hand-made clinic week: a valid schedule passes, and each broken rule is caught
under its own name (and only that one)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, time

import pytest

from kapstone.clinical.access import Modality, Role
from kapstone.clinical.routes import Route
from kapstone.scheduling.checker import Constraint, check
from kapstone.scheduling.instance import (
    Instance,
    OpeningHours,
    RetreatRequest,
    Room,
    Site,
    StaffMember,
    Window,
)
from kapstone.scheduling.policy import SchedulingPolicy
from kapstone.scheduling.schedule import DosingBooking, IntegrationBooking, Schedule

MONDAY = date(2026, 11, 2)
WEEK = [date(2026, 11, d) for d in range(2, 7)]  # Monday to Friday


def at(day: int, hh: int, mm: int = 0) -> datetime:
    """Day 0 is Monday 2 November 2026."""
    return datetime.combine(date(2026, 11, 2 + day), time(hh, mm))


def every_day(a: int, b: int, bm: int = 0, am: int = 0) -> tuple[Window, ...]:
    return tuple(
        Window(datetime.combine(d, time(a, am)), datetime.combine(d, time(b, bm))) for d in WEEK
    )


def clinic() -> Instance:
    site = Site(
        "s1",
        "Riverside",
        tuple(OpeningHours(wd, time(8), time(18)) for wd in range(5)),
        frozenset({date(2026, 11, 6)}),  # closed on Friday
    )
    annex = Site("s2", "Annex", (OpeningHours(0, time(8), time(18)),))
    staff = (
        StaffMember("md1", "Dr Prescriber", Role.PRESCRIBER, "s1", every_day(8, 18)),
        StaffMember("rn1", "Nurse One", Role.NURSE, "s1", every_day(8, 18), every_day(12, 12, 30)),
        StaffMember(
            "rn2", "Nurse Two", Role.NURSE, "s1", every_day(8, 18), every_day(13, 14, 0, 30)
        ),
        StaffMember(
            "th1",
            "Therapist EMDR",
            Role.THERAPIST,
            "s1",
            every_day(9, 18),
            every_day(13, 13, 45),
            frozenset({Modality.EMDR, Modality.CBT}),
            "Office 1",
        ),
        StaffMember(
            "th2",
            "Therapist CBT",
            Role.THERAPIST,
            "s1",
            every_day(9, 18),
            (),
            frozenset({Modality.CBT}),
            "Office 2",
        ),
    )
    requests = (
        RetreatRequest("pA", "Ann", Route.IV, 2, 2, Modality.EMDR, integration_minutes=60),
        RetreatRequest(
            "pB",
            "Ben",
            Route.IM,
            2,
            3,
            Modality.CBT,
            integration_minutes=90,
            available=tuple(
                Window(datetime.combine(d, time(8)), datetime.combine(d, time(18)))
                for d in WEEK[:3]
            ),
        ),
        RetreatRequest("pC", "Cat", Route.IV, 1, 1, Modality.CBT, integration_minutes=90),
    )
    return Instance(
        start=MONDAY,
        days=7,
        sites=(site, annex),
        rooms=(
            Room("iv1", "s1", frozenset({Route.IV}), 15),
            Room("gen1", "s1", frozenset({Route.IM, Route.SUBLINGUAL_LOZENGE}), 15),
        ),
        staff=staff,
        requests=requests,
        policy=SchedulingPolicy(),
    )


def valid() -> Schedule:
    return Schedule(
        dosing=(
            DosingBooking("pA", 0, "s1", "iv1", "rn1", at(0, 9), at(0, 11)),
            DosingBooking("pA", 1, "s1", "iv1", "rn1", at(1, 9), at(1, 11)),
            DosingBooking("pB", 0, "s1", "gen1", "rn1", at(0, 9), at(0, 11)),
            DosingBooking("pB", 1, "s1", "gen1", "rn2", at(2, 9), at(2, 11)),
            # Starts exactly when iv1's turnover after pA's dose ends.
            DosingBooking("pC", 0, "s1", "iv1", "rn2", at(1, 11, 15), at(1, 13, 15)),
        ),
        integration=(
            IntegrationBooking("pA", 0, "th1", "Office 1", at(0, 14), at(0, 15)),
            IntegrationBooking("pA", 1, "th1", "Office 1", at(1, 14), at(1, 15)),
            IntegrationBooking("pB", 0, "th2", "Office 2", at(0, 11, 30), at(0, 13)),
            IntegrationBooking("pB", 1, "th2", "Office 2", at(2, 11, 30), at(2, 13)),
            IntegrationBooking("pC", 0, "th2", "Office 2", at(1, 14), at(1, 15, 30)),
        ),
        admitted=frozenset({"pA", "pB", "pC"}),
        unadmitted=frozenset(),
    )


def test_the_hand_made_schedule_is_valid() -> None:
    assert check(clinic(), valid()) == []


def _dose(s: Schedule, pid: str, k: int, **changes: object) -> Schedule:
    dosing = tuple(
        replace(b, **changes) if (b.patient_id, b.session_index) == (pid, k) else b  # type: ignore[arg-type]
        for b in s.dosing
    )
    return replace(s, dosing=dosing)


def _talk(s: Schedule, pid: str, k: int, **changes: object) -> Schedule:
    integration = tuple(
        replace(b, **changes) if (b.patient_id, b.session_index) == (pid, k) else b  # type: ignore[arg-type]
        for b in s.integration
    )
    return replace(s, integration=integration)


def _request(inst: Instance, pid: str, **changes: object) -> Instance:
    requests = tuple(
        replace(q, **changes) if q.patient_id == pid else q  # type: ignore[arg-type]
        for q in inst.requests
    )
    return replace(inst, requests=requests)


def _staff(inst: Instance, sid: str, **changes: object) -> Instance:
    staff = tuple(replace(m, **changes) if m.id == sid else m for m in inst.staff)  # type: ignore[arg-type]
    return replace(inst, staff=staff)


Case = Callable[[Instance, Schedule], tuple[Instance, Schedule]]

CASES: dict[str, tuple[Case, set[Constraint]]] = {
    "IV dose in a room without IV": (
        lambda i, s: (i, _dose(s, "pA", 1, room_id="gen1")),
        {Constraint.ROOM_ROUTE},
    ),
    "chair reused inside its turnover": (
        lambda i, s: (
            i,
            _dose(s, "pC", 0, start=at(1, 11), end=at(1, 13)),
        ),
        {Constraint.ROOM_DOUBLE_BOOKED},
    ),
    "booked on a closure day": (
        lambda i, s: (
            i,
            _talk(
                _dose(s, "pC", 0, start=at(4, 11, 15), end=at(4, 13, 15)),
                "pC",
                0,
                start=at(4, 14),
                end=at(4, 15, 30),
            ),
        ),
        {Constraint.OPENING_HOURS},
    ),
    "nurse over her monitoring capacity": (
        lambda i, s: (replace(i, policy=SchedulingPolicy(patients_per_nurse=1)), s),
        {Constraint.NURSE_CAPACITY},
    ),
    "no prescriber on site on Tuesday morning": (
        lambda i, s: (
            _staff(
                i,
                "md1",
                availability=(
                    *tuple(w for w in every_day(8, 18) if w.start.day != 3),
                    Window(at(1, 10), at(1, 18)),
                ),
            ),
            s,
        ),
        {Constraint.PRESCRIBER_ON_SITE},
    ),
    "nurse on her break": (
        lambda i, s: (i, _dose(s, "pC", 0, nurse_id="rn1")),
        {Constraint.STAFF_AVAILABILITY},
    ),
    "therapist not credentialed": (
        lambda i, s: (i, _talk(s, "pA", 0, therapist_id="th2", room="Office 2")),
        {Constraint.CREDENTIAL},
    ),
    "integration two days after the dose": (
        lambda i, s: (i, _talk(s, "pC", 0, start=at(3, 14), end=at(3, 15, 30))),
        {Constraint.INTEGRATION_WINDOW},
    ),
    "two doses on one day": (
        lambda i, s: (
            _request(i, "pB", min_gap_hours=0),
            _talk(
                _dose(s, "pB", 1, start=at(0, 14), end=at(0, 16)),
                "pB",
                1,
                start=at(0, 16, 15),
                end=at(0, 17, 45),
            ),
        ),
        {Constraint.ONE_DOSE_A_DAY},
    ),
    "doses closer than the minimum gap": (
        lambda i, s: (_request(i, "pA", min_gap_hours=30), s),
        {Constraint.MIN_GAP},
    ),
    "more doses in a week than the plan allows": (
        lambda i, s: (_request(i, "pA", doses_per_week=1), s),
        {Constraint.SESSIONS_PER_WEEK},
    ),
    "admitted patient missing an integration session": (
        lambda i, s: (
            i,
            replace(
                s,
                integration=tuple(
                    b for b in s.integration if (b.patient_id, b.session_index) != ("pA", 1)
                ),
            ),
        ),
        {Constraint.WHOLE_COURSE},
    ),
    "unadmitted patient with bookings": (
        lambda i, s: (
            i,
            replace(s, admitted=frozenset({"pA", "pB"}), unadmitted=frozenset({"pC"})),
        ),
        {Constraint.WHOLE_COURSE},
    ),
    "dose outside the patient's availability": (
        lambda i, s: (
            _request(
                i,
                "pB",
                available=(
                    Window(at(0, 8), at(0, 18)),
                    Window(at(1, 8), at(1, 18)),
                ),
            ),
            s,
        ),
        {Constraint.PATIENT_AVAILABILITY},
    ),
    "patient in integration during the next dose": (
        lambda i, s: (i, _talk(s, "pA", 0, start=at(1, 9), end=at(1, 10))),
        {Constraint.PATIENT_DOUBLE_BOOKED},
    ),
    "therapist with two patients at once": (
        lambda i, s: (i, _talk(s, "pC", 0, therapist_id="th1", room="Office 1")),
        {Constraint.THERAPIST_DOUBLE_BOOKED},
    ),
    "dose shorter than the route's session": (
        lambda i, s: (i, _dose(s, "pA", 0, end=at(0, 10, 30))),
        {Constraint.SESSION_LENGTH},
    ),
    "a prescriber booked as the monitoring nurse": (
        lambda i, s: (i, _dose(s, "pA", 0, nurse_id="md1")),
        {Constraint.STAFF_ROLE},
    ),
    "course at a site the patient did not choose": (
        lambda i, s: (_request(i, "pA", site_ids=frozenset({"s2"})), s),
        {Constraint.ONE_SITE},
    ),
    "booking names a room that does not exist": (
        lambda i, s: (i, _dose(s, "pA", 0, room_id="nope")),
        {Constraint.UNKNOWN_REFERENCE},
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_each_broken_rule_is_caught_under_its_name(case: str) -> None:
    mutate, expected = CASES[case]
    instance, schedule = mutate(clinic(), valid())
    violations = check(instance, schedule)
    assert {v.constraint for v in violations} == expected, [v.message for v in violations]
    assert all(v.message and v.what for v in violations)


def test_every_constraint_has_a_violating_case() -> None:
    covered = set().union(*(expected for _, expected in CASES.values()))
    assert covered == set(Constraint)


def test_messages_speak_the_clinics_language() -> None:
    instance, schedule = CASES["therapist not credentialed"][0](clinic(), valid())
    (violation,) = check(instance, schedule)
    assert "Therapist CBT is not credentialed in EMDR" in violation.message


def test_integration_may_start_the_next_morning_within_the_window() -> None:
    # pC's dose ends Tuesday 13:15; an integration at 09:00 Wednesday is 19 h 45 min later.
    schedule = _talk(valid(), "pC", 0, start=at(2, 9), end=at(2, 10, 30))
    assert check(clinic(), schedule) == []
