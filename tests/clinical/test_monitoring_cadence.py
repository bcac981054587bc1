"""Monitoring cadence: worked IV and esketamine sessions, rechecks, bad input, timer properties."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapstone.clinical.monitoring_cadence import (
    CheckReason,
    DoseTiming,
    MonitoringPhase,
    monitoring_schedule,
)
from kapstone.clinical.monitoring_policy import (
    DEFAULT_MONITORING_POLICY,
    CheckKind,
    InvalidMonitoringInput,
)
from kapstone.clinical.routes import Route
from kapstone.clinical.vital_signs import DissociationRating, DissociationScale, VitalSign

POLICY = DEFAULT_MONITORING_POLICY
START = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def vitals(*minutes: float) -> list[VitalSign]:
    return [VitalSign(at(m), 125, 80, 72, 98, 14) for m in minutes]


def rating(minutes: float) -> DissociationRating:
    return DissociationRating(DissociationScale.CADSS_6, 6, at(minutes))


def schedule(dose: DoseTiming, now: float, **kwargs: Any) -> Any:
    kwargs.setdefault("vitals", vitals(-10))
    return monitoring_schedule(dose=dose, now=at(now), policy=POLICY, **kwargs)


def due(s: Any) -> dict[str, datetime]:
    return {c.check_id: c.due_at for c in s.outstanding}


IV_RUNNING = DoseTiming(Route.IV, START)
IV_DONE = DoseTiming(Route.IV, START, at(40))
ESK = DoseTiming(Route.INTRANASAL_ESKETAMINE, START, at(10))


# --- IV: every 10 minutes during the infusion, every 15 after (RIVAPOSSE2018) ------------------


def test_iv_first_check_ten_minutes_into_the_infusion() -> None:
    s = schedule(IV_RUNNING, now=5)
    assert s.phase is MonitoringPhase.INFUSING
    assert due(s) == {"vitals.routine": at(10)}  # dissociation waits for the infusion to end
    assert s.next_due_at == at(10)
    assert s.due_now == ()
    assert s.protocol_id == "iv-infusion-default"
    assert s.policy_version == POLICY.version
    assert s.outstanding[0].source.key == "RIVAPOSSE2018"


def test_iv_missed_check_during_the_infusion_is_overdue_after_the_grace() -> None:
    s = schedule(IV_RUNNING, now=32, vitals=vitals(-10, 10, 20))
    assert due(s)["vitals.routine"] == at(30)
    assert [c.check_id for c in s.due_now] == ["vitals.routine"]
    assert s.overdue == ()  # 2 minutes late is within the grace
    late = schedule(IV_RUNNING, now=32.5, vitals=vitals(-10, 10, 20))
    assert [c.check_id for c in late.overdue] == ["vitals.routine"]


def test_iv_after_the_infusion_every_15_minutes_and_dissociation_at_the_end() -> None:
    s = schedule(IV_DONE, now=41, vitals=vitals(-10, 10, 20, 30, 40))
    assert s.phase is MonitoringPhase.AFTER_DOSE
    assert due(s) == {"vitals.routine": at(55), "dissociation.peak": at(40)}
    assert [c.check_id for c in s.due_now] == ["dissociation.peak"]
    assert s.next_due_at == at(40)
    rated = schedule(IV_DONE, now=41, vitals=vitals(-10, 10, 20, 30, 40), dissociation=[rating(36)])
    assert due(rated) == {"vitals.routine": at(55)}
    too_early = schedule(
        IV_DONE, now=41, vitals=vitals(-10, 10, 20, 30, 40), dissociation=[rating(34)]
    )
    assert "dissociation.peak" in due(too_early)
    assert due(schedule(IV_DONE, now=60, vitals=vitals(-10, 40, 55)))["vitals.routine"] == at(70)


def test_reading_taken_during_the_infusion_keeps_the_shorter_interval() -> None:
    s = schedule(IV_DONE, now=45, vitals=vitals(-10, 38))
    assert due(s)["vitals.routine"] == at(48)


# --- esketamine: BP before, at 40 minutes, before completion; CADSS at 40 ---------------------


def test_esketamine_schedule_from_the_first_device() -> None:
    s = schedule(ESK, now=20)
    assert s.phase is MonitoringPhase.AFTER_DOSE
    assert due(s) == {
        "vitals.routine": at(30),
        "vitals.esketamine_40_min": at(40),
        "dissociation.peak": at(40),
        "vitals.before_session_completion": at(120),
    }
    forty = next(c for c in s.outstanding if c.check_id == "vitals.esketamine_40_min")
    assert forty.reason is CheckReason.TIMED
    assert forty.source.key == "SPRAVATO-US"
    assert forty.kind is CheckKind.VITALS


def test_esketamine_40_minute_check_counts_from_five_minutes_early() -> None:
    on_time = schedule(ESK, now=41, vitals=vitals(-10, 30, 36), dissociation=[rating(40)])
    assert due(on_time) == {
        "vitals.routine": at(66),
        "vitals.before_session_completion": at(120),
    }
    early = schedule(ESK, now=41, vitals=vitals(-10, 30, 34), dissociation=[rating(40)])
    assert "vitals.esketamine_40_min" in due(early)
    missed = schedule(ESK, now=50, vitals=vitals(-10, 30))
    assert {c.check_id for c in missed.overdue} == {
        "vitals.esketamine_40_min",
        "dissociation.peak",
    }


def test_esketamine_completion_check_at_two_hours() -> None:
    s = schedule(ESK, now=118, vitals=vitals(-10, 40, 70, 100, 116), dissociation=[rating(40)])
    assert "vitals.before_session_completion" not in due(s)
    s = schedule(ESK, now=118, vitals=vitals(-10, 40, 70, 100), dissociation=[rating(40)])
    assert due(s)["vitals.before_session_completion"] == at(120)


# --- baseline, rechecks, other routes ---------------------------------------------------------


def test_pre_dose_baseline_is_due_before_dosing_and_overdue_after() -> None:
    before = schedule(DoseTiming(Route.IV, None), now=-5, vitals=[])
    assert before.phase is MonitoringPhase.BEFORE_DOSE
    assert [(c.check_id, c.due_at) for c in before.outstanding] == [
        ("vitals.pre_dose_baseline", at(-5))
    ]
    assert before.outstanding[0].source.key == "§2.1"
    taken = schedule(DoseTiming(Route.IV, None), now=-5, vitals=vitals(-8))
    assert taken.outstanding == ()
    forgot = schedule(IV_RUNNING, now=5, vitals=[])
    assert "vitals.pre_dose_baseline" in {c.check_id for c in forgot.overdue}


def test_recheck_requested_by_an_alert_is_due_in_5_minutes() -> None:
    s = schedule(IV_DONE, now=52, vitals=vitals(-10, 40, 50), recheck_requested_at=[at(50.5)])
    assert due(s)["vitals.recheck.1"] == at(55.5)
    assert next(c for c in s.outstanding if c.reason is CheckReason.RECHECK)
    cleared = schedule(
        IV_DONE, now=57, vitals=vitals(-10, 40, 50, 54), recheck_requested_at=[at(50.5)]
    )
    assert not any(c.reason is CheckReason.RECHECK for c in cleared.outstanding)


def test_bolus_routes_use_the_after_dose_interval_from_the_dose() -> None:
    im = schedule(DoseTiming(Route.IM, START), now=1)
    assert due(im) == {"vitals.routine": at(15), "dissociation.peak": at(15)}
    assert im.outstanding[0].source.is_clinic_policy


@pytest.mark.parametrize(
    ("dose", "now", "field"),
    [
        (DoseTiming(Route.IV, START, at(-1)), 10, "ended_at"),
        (DoseTiming(Route.IV, at(5)), 1, "started_at"),
        (DoseTiming(Route.IV, None, at(5)), 10, "ended_at"),
        (DoseTiming(Route.IV, START, at(50)), 45, "ended_at"),
        (DoseTiming(Route.IV, START.replace(tzinfo=None)), 10, "started_at"),
    ],
)
def test_contradictory_dose_times_are_refused(dose: DoseTiming, now: float, field: str) -> None:
    with pytest.raises(InvalidMonitoringInput) as caught:
        schedule(dose, now=now)
    assert field in {p.field for p in caught.value.problems}


def test_readings_from_the_future_and_unknown_protocols_are_refused() -> None:
    with pytest.raises(InvalidMonitoringInput) as caught:
        schedule(IV_RUNNING, now=5, vitals=vitals(-10, 6))
    assert caught.value.problems[0].field == "vitals"
    with pytest.raises(InvalidMonitoringInput) as caught:
        schedule(replace(ESK, protocol_id="iv-infusion-default"), now=5)
    assert "is for iv" in str(caught.value)


# --- properties -------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(Route),
    st.lists(st.integers(1, 300), max_size=12),
    st.integers(0, 60),
    st.integers(0, 120),
)
def test_routine_timer_restarts_at_the_last_reading(
    route: Route, minutes: list[int], infusion: int, extra: int
) -> None:
    end = at(infusion) if route is Route.IV else None
    now = max([infusion, *minutes]) + extra
    s = schedule(DoseTiming(route, START, end), now=now, vitals=vitals(-10, *minutes))
    routine = [c for c in s.outstanding if c.reason is CheckReason.ROUTINE]
    assert len(routine) == 1
    last = at(max(minutes)) if minutes else START
    protocol = POLICY.protocol_for(route)
    gap = routine[0].due_at - last
    allowed = {protocol.after_dose_interval.value}
    if protocol.during_infusion_interval is not None:
        allowed.add(protocol.during_infusion_interval.value)
    assert gap in allowed
    assert [c.due_at for c in s.outstanding] == sorted(c.due_at for c in s.outstanding)
    assert all(
        c.overdue == (at(now) > c.due_at + POLICY.overdue_grace.value) for c in s.outstanding
    )
