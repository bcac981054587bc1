"""Program templates: the defaults validate, edits are checked, calendars keep cadence and gaps."""

from __future__ import annotations

import dataclasses
import re
from datetime import date, timedelta
from fractions import Fraction
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapstone.clinical.programs import (
    DEFAULT_TEMPLATES,
    ESKETAMINE_INDUCTION,
    INTENSIVE_RETREAT,
    MAINTENANCE_MONTHLY,
    STANDARD_IV_INDUCTION,
    CalendarRefused,
    ProgramTemplate,
    course_calendar,
    validate_template,
)
from kapstone.clinical.provenance import Source, Verification
from kapstone.clinical.routes import Route
from tests.reference import REFERENCE

MONDAY = date(2026, 11, 2)


def fields(t: ProgramTemplate) -> set[str]:
    return {p.field for p in validate_template(t)}


@pytest.mark.parametrize("key", sorted(DEFAULT_TEMPLATES))
def test_default_templates_validate(key):
    assert validate_template(DEFAULT_TEMPLATES[key]) == []


def test_intensive_retreat_matches_the_seed_program():
    t = INTENSIVE_RETREAT
    assert (t.dosing_sessions, t.sessions_per_week, t.course_weeks) == (6, 3, 2)
    assert t.integration.required
    assert t.integration.within_hours == 24
    assert (t.integration.minutes_min, t.integration.minutes_max) == (60, 90)
    assert course_calendar(t, MONDAY) == tuple(
        MONDAY + timedelta(days=d) for d in (0, 2, 4, 7, 9, 11)
    )  # six sessions over 12 days (Murrough 2013 schedule, §3)


def test_standard_iv_induction_is_twice_weekly_for_three_weeks_at_half_mg_per_kg():
    t = STANDARD_IV_INDUCTION
    assert t.routes == (Route.IV,)
    assert t.sessions_per_week == 2
    assert t.dosing_sessions == 6
    assert t.standard_dose is not None
    assert (t.standard_dose.mg_per_kg, t.standard_dose.minutes) == (0.5, 40)
    assert t.standard_dose.source.key == "ANDRADE2017-DOSE"
    assert t.session_length(Route.IV).dosing_minutes == 40


def test_extended_outpatient_and_maintenance_cadences():
    weekly = DEFAULT_TEMPLATES["extended_outpatient_weekly"]
    fortnightly = DEFAULT_TEMPLATES["extended_outpatient_fortnightly"]
    assert weekly.sessions_per_week == 1
    assert fortnightly.sessions_per_week == Fraction(1, 2)
    assert MAINTENANCE_MONTHLY.sessions_per_week == Fraction(1, 4)
    assert MAINTENANCE_MONTHLY.relapse_rules_may_trigger
    dates = course_calendar(fortnightly, MONDAY)
    assert {(b - a).days for a, b in pairwise(dates)} == {14}


def test_esketamine_sessions_observe_two_hours():
    length = ESKETAMINE_INDUCTION.session_length(Route.INTRANASAL_ESKETAMINE)
    assert length.observation_minutes >= 120
    assert length.source.key == "SPRAVATO-US"


def test_session_length_missing_route_raises():
    with pytest.raises(KeyError):
        STANDARD_IV_INDUCTION.session_length(Route.ORAL)


def test_ref_keeps_key_and_version():
    assert INTENSIVE_RETREAT.ref == f"intensive_retreat@{INTENSIVE_RETREAT.version}"


# --- validation of a medical director's edits -----------------------------------------------------


def test_sessions_inconsistent_with_cadence_and_weeks():
    assert fields(dataclasses.replace(INTENSIVE_RETREAT, dosing_sessions=7)) == {"dosing_sessions"}


def test_gap_impossible_within_a_week():
    edited = dataclasses.replace(INTENSIVE_RETREAT, min_gap_days=3)  # 3 a week, 3 days apart
    problems = validate_template(edited)
    assert [p.field for p in problems] == ["min_gap_days"]
    assert "at most 2 days" in problems[0].accepts


def test_integration_window_must_be_positive():
    edited = dataclasses.replace(
        INTENSIVE_RETREAT,
        integration=dataclasses.replace(INTENSIVE_RETREAT.integration, within_hours=0),
    )
    assert fields(edited) == {"integration.within_hours"}


def test_integration_window_must_close_before_the_next_dose():
    edited = dataclasses.replace(
        INTENSIVE_RETREAT,
        integration=dataclasses.replace(INTENSIVE_RETREAT.integration, within_hours=36),
    )
    assert fields(edited) == {"integration.within_hours"}


def test_integration_length_range():
    edited = dataclasses.replace(
        INTENSIVE_RETREAT,
        integration=dataclasses.replace(INTENSIVE_RETREAT.integration, minutes_min=100),
    )
    assert fields(edited) == {"integration.minutes"}


def test_each_allowed_route_needs_a_session_length():
    edited = dataclasses.replace(STANDARD_IV_INDUCTION, routes=(Route.IV, Route.IM))
    assert fields(edited) == {"session_lengths.im"}


def test_esketamine_observation_cannot_drop_below_the_label():
    length = ESKETAMINE_INDUCTION.session_lengths[0]
    edited = dataclasses.replace(
        ESKETAMINE_INDUCTION,
        session_lengths=(dataclasses.replace(length, observation_minutes=90),),
    )
    assert fields(edited) == {"session_lengths.intranasal_esketamine"}


def test_standard_dose_route_must_be_allowed():
    assert STANDARD_IV_INDUCTION.standard_dose is not None
    edited = dataclasses.replace(
        STANDARD_IV_INDUCTION,
        standard_dose=dataclasses.replace(STANDARD_IV_INDUCTION.standard_dose, route=Route.SC),
    )
    assert fields(edited) == {"standard_dose.route"}


def test_basic_fields_are_checked_together():
    edited = dataclasses.replace(
        INTENSIVE_RETREAT, key="Retreat!", name=" ", version="", routes=(), period_days=0
    )
    assert fields(edited) == {"key", "name", "version", "routes", "period_days"}


def test_required_integration_needs_a_modality():
    assert fields(dataclasses.replace(INTENSIVE_RETREAT, modalities=())) == {"modalities"}


# --- calendars ------------------------------------------------------------------------------------


def test_invalid_template_has_no_calendar():
    with pytest.raises(CalendarRefused) as caught:
        course_calendar(dataclasses.replace(INTENSIVE_RETREAT, min_gap_days=3), MONDAY)
    assert caught.value.problems[0].field == "min_gap_days"


def test_closed_weekends_move_sessions_to_open_days():
    friday = date(2026, 11, 6)
    dates = course_calendar(INTENSIVE_RETREAT, friday, closed_weekdays=frozenset({5, 6}))
    assert all(d.weekday() < 5 for d in dates)
    assert len(dates) == 6


def test_calendar_refuses_when_closed_days_leave_no_room():
    # Twice a week, 2 days apart, only Mondays open: the second session cannot fit its week.
    with pytest.raises(CalendarRefused):
        course_calendar(STANDARD_IV_INDUCTION, MONDAY, closed_weekdays=frozenset(range(1, 7)))


def test_open_ended_course_takes_a_session_count():
    assert len(course_calendar(MAINTENANCE_MONTHLY, MONDAY, sessions=10)) == 10
    with pytest.raises(CalendarRefused):
        course_calendar(MAINTENANCE_MONTHLY, MONDAY, sessions=0)


@settings(max_examples=120, deadline=None)
@given(
    key=st.sampled_from(sorted(DEFAULT_TEMPLATES)),
    start=st.dates(min_value=date(2026, 1, 1), max_value=date(2030, 12, 31)),
    closed=st.frozensets(st.integers(min_value=0, max_value=6), max_size=2),
)
def test_calendars_respect_sessions_per_period_and_minimum_gaps(key, start, closed):
    t = DEFAULT_TEMPLATES[key]
    try:
        dates = course_calendar(t, start, closed_weekdays=closed)
    except CalendarRefused:
        assert closed  # only closed days can make a valid template unschedulable
        return
    assert len(dates) == t.dosing_sessions
    assert dates[0] >= start
    assert all(d.weekday() not in closed for d in dates)
    for a, b in pairwise(dates):
        assert (b - a).days >= t.min_gap_days
    for period in range(t.dosing_sessions // t.sessions_per_period):
        lo = start + timedelta(days=period * t.period_days)
        hi = lo + timedelta(days=t.period_days)
        assert sum(lo <= d < hi for d in dates) == t.sessions_per_period
    assert dates[-1] < start + timedelta(weeks=t.course_weeks)


# --- provenance -----------------------------------------------------------------------------------


def _sources(t: ProgramTemplate) -> list[Source]:
    found = [t.source, t.integration.source]
    found += [length.source for length in t.session_lengths]
    found += [hint.source for hint in t.measurement]
    if t.standard_dose is not None:
        found.append(t.standard_dose.source)
    return found


@pytest.mark.parametrize("key", sorted(DEFAULT_TEMPLATES))
def test_every_source_key_is_in_the_reference(key):
    text = REFERENCE.read_text(encoding="utf-8")
    sections = set(re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", text, flags=re.MULTILINE))
    for source in _sources(DEFAULT_TEMPLATES[key]):
        if source.key.startswith("§"):
            assert source.key[1:] in sections, source
        else:
            assert f"| {source.key} |" in text, source
        if source.verification is Verification.UNVERIFIED:
            assert source.is_clinic_policy
