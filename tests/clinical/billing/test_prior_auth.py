"""Prior authorisation warnings at their edges: expiry threshold, units, dates."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapstone.clinical.billing.policy import BillingValue
from kapstone.clinical.billing.prior_auth import (
    Authorisation,
    Benefit,
    PlannedSession,
    PriorAuthPolicy,
    WarningKind,
    authorisation_problems,
    covering,
    patient_warnings,
    warnings,
    with_units_used,
)
from kapstone.clinical.problems import Refused
from kapstone.clinical.provenance import Evidence, Source, Verification

START, END = date(2026, 1, 5), date(2026, 4, 5)
AUTH = Authorisation("acme", "PA-1", 8, START, END, Benefit.MEDICAL, units_used=6)


def kinds(found: tuple[object, ...]) -> list[WarningKind]:
    return [w.kind for w in found]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("days_before_end", "expected"),
    [
        (15, []),
        (14, [WarningKind.EXPIRES_SOON]),
        (1, [WarningKind.EXPIRES_SOON]),
        (0, [WarningKind.EXPIRES_SOON]),
        (-1, [WarningKind.EXPIRED]),
    ],
)
def test_expiry_warning_at_the_threshold(days_before_end: int, expected: list[WarningKind]) -> None:
    found = warnings(AUTH, today=END - timedelta(days=days_before_end))
    assert kinds(found) == expected


def test_the_message_says_how_many_days() -> None:
    assert warnings(AUTH, today=END - timedelta(days=14))[0].message.endswith("expires in 14 days")
    assert warnings(AUTH, today=END - timedelta(days=1))[0].message.endswith("expires in 1 day")
    assert warnings(AUTH, today=END)[0].message.endswith("expires today")
    assert warnings(AUTH, today=END - timedelta(days=3))[0].days_left == 3


def test_the_threshold_is_clinic_policy() -> None:
    src = Source("§13.4", Verification.UNVERIFIED, Evidence.CLINIC_POLICY, "longer")
    policy = PriorAuthPolicy(version="p2", expiry_warning_days=BillingValue(30, src))
    assert kinds(warnings(AUTH, today=END - timedelta(days=30), policy=policy)) == [
        WarningKind.EXPIRES_SOON
    ]


def test_the_session_that_would_exceed_the_units_is_named() -> None:
    today = START + timedelta(days=10)
    planned = [PlannedSession(f"s{i}", today + timedelta(days=i)) for i in (3, 1, 2)]
    found = warnings(AUTH, today=today, planned_sessions=planned)
    # 6 used + s1 (7) + s2 (8) fit; s3 (9) exceeds the 8 approved.
    assert [(w.kind, w.session_ref) for w in found] == [(WarningKind.EXCEEDS_UNITS, "s3")]


def test_the_last_unit_fits_exactly() -> None:
    found = warnings(AUTH, today=START, planned_sessions=[PlannedSession("s", START, units=2)])
    assert found == ()
    found = warnings(AUTH, today=START, planned_sessions=[PlannedSession("s", START, units=3)])
    assert kinds(found) == [WarningKind.EXCEEDS_UNITS]


def test_sessions_outside_the_dates_warn_and_use_no_units() -> None:
    planned = [
        PlannedSession("late", END + timedelta(days=1)),
        PlannedSession("early", START - timedelta(days=1)),
        PlannedSession("last-day", END),
        PlannedSession("first-day", START),
    ]
    found = warnings(AUTH, today=START - timedelta(days=30), planned_sessions=planned)
    assert [(w.kind, w.session_ref) for w in found] == [
        (WarningKind.BEFORE_START, "early"),
        (WarningKind.AFTER_EXPIRY, "late"),
    ]


def test_used_up() -> None:
    used = dataclasses.replace(AUTH, units_used=8)
    assert kinds(warnings(used, today=START)) == [WarningKind.USED_UP]


def test_a_malformed_authorisation_is_refused_with_every_fault() -> None:
    bad = Authorisation(" ", " ", 0, END, START, Benefit.PHARMACY, units_used=-1)
    assert {p.field for p in authorisation_problems(bad)} == {
        "number",
        "payer",
        "approved_units",
        "units_used",
        "end",
    }
    with pytest.raises(Refused):
        warnings(bad, today=START)


def test_covering_picks_the_one_in_force_ending_first() -> None:
    later = dataclasses.replace(AUTH, number="PA-2", end=END + timedelta(days=90), units_used=0)
    pharmacy = dataclasses.replace(AUTH, number="PA-3", benefit=Benefit.PHARMACY, units_used=0)
    assert covering([later, AUTH], START) is AUTH
    assert covering([later, AUTH], END + timedelta(days=1)) is later
    assert covering([dataclasses.replace(AUTH, units_used=8)], START) is None
    assert covering([AUTH, pharmacy], START, benefit=Benefit.PHARMACY) is pharmacy


# --- a patient's authorisations together ---------------------------------------------------------


def test_signed_sessions_use_the_authorisation_in_force_ending_first() -> None:
    first = Authorisation("acme", "A", 2, START, END, Benefit.MEDICAL)
    renewal = Authorisation(
        "acme", "B", 8, END - timedelta(days=10), END + timedelta(days=90), Benefit.MEDICAL
    )
    uncovered = START + timedelta(days=7)  # A is used up and B has not started: uses nothing
    days = [START, START + timedelta(days=3), uncovered, END - timedelta(days=5), END]
    counted = with_units_used([first, renewal], days)
    assert [a.units_used for a in counted] == [2, 2]


def test_the_planned_session_that_would_exceed_the_approval_is_named() -> None:
    auth = Authorisation("acme", "PA-9", 4, START, END, Benefit.MEDICAL)
    used = [START, START + timedelta(days=3), START + timedelta(days=7)]
    today = START + timedelta(days=8)
    planned = [
        PlannedSession("s10", START + timedelta(days=10)),
        PlannedSession("s14", START + timedelta(days=14)),
    ]
    found, covers = patient_warnings([auth], today=today, used_on=used, planned_sessions=planned)
    assert [(c.ref, c.number) for c in covers] == [("s10", "PA-9"), ("s14", None)]
    assert [(w.kind, w.session_ref) for w in found] == [(WarningKind.EXCEEDS_UNITS, "s14")]
    assert "exceed the 4 approved units of authorisation PA-9" in found[0].message


def test_after_the_last_end_and_before_any_start() -> None:
    auth = Authorisation("acme", "PA-9", 20, START, END, Benefit.MEDICAL)
    planned = [
        PlannedSession("late", END + timedelta(days=1)),
        PlannedSession("early", START - timedelta(days=1)),
    ]
    found, _ = patient_warnings([auth], today=START - timedelta(days=40), planned_sessions=planned)
    assert [(w.kind, w.session_ref) for w in found] == [
        (WarningKind.NOT_COVERED, "early"),
        (WarningKind.AFTER_EXPIRY, "late"),
    ]


def test_a_renewal_silences_the_old_ones_expiry_for_later_sessions() -> None:
    old = Authorisation("acme", "OLD", 4, START, END, Benefit.MEDICAL)
    new = Authorisation(
        "acme", "NEW", 4, END + timedelta(days=1), END + timedelta(days=60), Benefit.MEDICAL
    )
    found, covers = patient_warnings(
        [old, new],
        today=END + timedelta(days=5),
        planned_sessions=[PlannedSession("s", END + timedelta(days=6))],
    )
    assert found == () and covers[0].number == "NEW"


def test_no_authorisation_no_warning() -> None:
    assert patient_warnings([], today=START, planned_sessions=[PlannedSession("s", START)]) == (
        (),
        (),
    )


_days = st.integers(min_value=-60, max_value=120).map(lambda n: START + timedelta(days=n))
_auths = st.lists(
    st.tuples(_days, st.integers(min_value=0, max_value=90), st.integers(min_value=1, max_value=6)),
    min_size=1,
    max_size=3,
)


@given(_auths, st.lists(_days, max_size=8), st.lists(_days, max_size=10))
def test_every_planned_session_is_covered_or_named_and_no_approval_is_overrun(
    specs: list[tuple[date, int, int]], used: list[date], planned_days: list[date]
) -> None:
    auths = [
        Authorisation(
            "acme", f"PA-{i}", units, first, first + timedelta(days=length), Benefit.MEDICAL
        )
        for i, (first, length, units) in enumerate(specs)
    ]
    planned = [PlannedSession(f"s{i}", day) for i, day in enumerate(planned_days)]
    found, covers = patient_warnings(auths, today=START, used_on=used, planned_sessions=planned)
    named = {w.session_ref for w in found if w.session_ref is not None}
    assert {c.ref for c in covers} == {p.ref for p in planned}
    for cover in covers:
        assert (cover.number is None) == (cover.ref in named)
    counted = {a.number: a for a in with_units_used(auths, used)}
    for number, auth in counted.items():
        charged = [c for c in covers if c.number == number]
        assert auth.units_used + len(charged) <= auth.approved_units
        assert all(auth.covers(c.on) for c in charged)
