"""Discharge readiness: the all-clear case, each blocking criterion alone, observation time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapstone.clinical.discharge import (
    DischargeChecklist,
    DischargeCriterion,
    DischargeReadiness,
    assess_discharge,
)
from kapstone.clinical.monitoring_cadence import DoseTiming
from kapstone.clinical.monitoring_policy import (
    DEFAULT_MONITORING_POLICY,
    DischargePolicy,
    InvalidMonitoringInput,
    Sourced,
    TimeReference,
)
from kapstone.clinical.routes import Route
from kapstone.clinical.vital_signs import (
    DissociationRating,
    DissociationScale,
    SedationLevel,
    VitalSign,
)

POLICY = DEFAULT_MONITORING_POLICY
START = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


BASELINE = VitalSign(at(-10), 124, 78, 72, 98, 14, None, SedationLevel.ALERT)
CLEAR = DischargeChecklist(
    alert_and_oriented=True,
    dissociation_resolved=True,
    tolerating_fluids=True,
    escort_present=True,
    instructions_given=True,
)
ESK = DoseTiming(Route.INTRANASAL_ESKETAMINE, START, at(10))


def assess(now: float = 125, **kwargs: Any) -> DischargeReadiness:
    kwargs.setdefault("dose", ESK)
    kwargs.setdefault("baseline", BASELINE)
    kwargs.setdefault("latest_vitals", replace(BASELINE, taken_at=at(now - 5)))
    kwargs.setdefault("checklist", CLEAR)
    kwargs.setdefault("policy", POLICY)
    return assess_discharge(now=at(now), **kwargs)


def test_all_clear_esketamine_after_two_hours() -> None:
    r = assess(now=125)
    assert r.ready
    assert r.blockers == ()
    assert r.earliest_discharge_at == at(120)  # label: 2 h, counted from the first device
    assert r.policy_version == POLICY.version
    assert r.protocol_id == "esketamine-rems-default"


def test_all_clear_at_exactly_the_minimum_observation_time() -> None:
    assert assess(now=120).ready
    r = assess(now=119.5)
    assert r.blocking_criteria == {DischargeCriterion.MINIMUM_OBSERVATION}
    assert "120 min from the start of dosing" in r.blockers[0].message
    assert "1 min to go" in r.blockers[0].message
    assert r.blockers[0].source.key == "SPRAVATO-US"


def test_iv_observation_runs_from_the_end_of_the_infusion() -> None:
    iv = DoseTiming(Route.IV, START, at(40))
    assert assess(now=100, dose=iv).ready
    r = assess(now=99, dose=iv)
    assert r.earliest_discharge_at == at(100)
    assert r.blocking_criteria == {DischargeCriterion.MINIMUM_OBSERVATION}
    running = assess(now=100, dose=DoseTiming(Route.IV, START))
    assert running.earliest_discharge_at is None
    assert DischargeCriterion.DOSE_RECORDED in running.blocking_criteria


def _latest(**changes: Any) -> Callable[[dict[str, Any]], None]:
    def apply(kwargs: dict[str, Any]) -> None:
        kwargs["latest_vitals"] = replace(BASELINE, **({"taken_at": at(120)} | changes))

    return apply


def _both(**changes: Any) -> Callable[[dict[str, Any]], None]:
    # Baseline moved with the reading, so only the absolute limit is under test.
    def apply(kwargs: dict[str, Any]) -> None:
        kwargs["baseline"] = replace(BASELINE, **changes)
        kwargs["latest_vitals"] = replace(BASELINE, taken_at=at(120), **changes)

    return apply


def _checklist(**changes: Any) -> Callable[[dict[str, Any]], None]:
    def apply(kwargs: dict[str, Any]) -> None:
        kwargs["checklist"] = replace(CLEAR, **changes)

    return apply


def _set(**changes: Any) -> Callable[[dict[str, Any]], None]:
    def apply(kwargs: dict[str, Any]) -> None:
        kwargs.update(changes)

    return apply


BLOCKING_CASES: list[tuple[str, Callable[[dict[str, Any]], None], DischargeCriterion, str]] = [
    (
        "no dose",
        _set(dose=DoseTiming(Route.INTRANASAL_ESKETAMINE, None)),
        DischargeCriterion.DOSE_RECORDED,
        "dose start",
    ),
    ("no vitals", _set(latest_vitals=None), DischargeCriterion.VITALS_RECENT, "No vital signs"),
    ("stale vitals", _latest(taken_at=at(109)), DischargeCriterion.VITALS_RECENT, "16 min old"),
    (
        "systolic high",
        _both(systolic_mmhg=160),
        DischargeCriterion.VITALS_WITHIN_LIMITS,
        "below 160",
    ),
    (
        "systolic low",
        _both(systolic_mmhg=89),
        DischargeCriterion.VITALS_WITHIN_LIMITS,
        "at least 90",
    ),
    (
        "diastolic high",
        _both(diastolic_mmhg=100),
        DischargeCriterion.VITALS_WITHIN_LIMITS,
        "below 100",
    ),
    (
        "tachycardia",
        _both(heart_rate_bpm=110),
        DischargeCriterion.VITALS_WITHIN_LIMITS,
        "below 110",
    ),
    (
        "bradycardia",
        _both(heart_rate_bpm=49),
        DischargeCriterion.VITALS_WITHIN_LIMITS,
        "at least 50",
    ),
    ("low SpO2", _both(spo2_percent=93), DischargeCriterion.VITALS_WITHIN_LIMITS, "SpO2 93"),
    (
        "slow breathing",
        _both(respiratory_rate_per_min=9),
        DischargeCriterion.VITALS_WITHIN_LIMITS,
        "at least 10",
    ),
    (
        "fast breathing",
        _both(respiratory_rate_per_min=25),
        DischargeCriterion.VITALS_WITHIN_LIMITS,
        "below 25",
    ),
    (
        "systolic above baseline",
        _latest(systolic_mmhg=144),
        DischargeCriterion.VITALS_NEAR_BASELINE,
        "20 mmHg above",
    ),
    (
        "diastolic above baseline",
        _latest(diastolic_mmhg=93),
        DischargeCriterion.VITALS_NEAR_BASELINE,
        "15 mmHg above",
    ),
    (
        "no baseline",
        _set(baseline=None),
        DischargeCriterion.VITALS_NEAR_BASELINE,
        "No pre-dose baseline",
    ),
    (
        "sedated",
        _latest(sedation=SedationLevel.DROWSY),
        DischargeCriterion.SEDATION_RESOLVED,
        "has not resolved",
    ),
    (
        "sedation not charted",
        _latest(sedation=None),
        DischargeCriterion.SEDATION_RESOLVED,
        "not recorded",
    ),
    (
        "oxygen",
        _checklist(on_supplemental_oxygen=True),
        DischargeCriterion.NO_SUPPLEMENTAL_OXYGEN,
        "oxygen",
    ),
    (
        "not oriented",
        _checklist(alert_and_oriented=False),
        DischargeCriterion.ALERT_AND_ORIENTED,
        "oriented",
    ),
    (
        "dissociated",
        _checklist(dissociation_resolved=False),
        DischargeCriterion.DISSOCIATION_RESOLVED,
        "dissociation",
    ),
    (
        "not drinking",
        _checklist(tolerating_fluids=False),
        DischargeCriterion.TOLERATING_FLUIDS,
        "fluids",
    ),
    (
        "no escort",
        _checklist(escort_present=False),
        DischargeCriterion.ESCORT_PRESENT,
        "must not drive",
    ),
    (
        "no instructions",
        _checklist(instructions_given=False),
        DischargeCriterion.INSTRUCTIONS_GIVEN,
        "Written",
    ),
    (
        "open alert",
        _set(unacknowledged_alerts=2),
        DischargeCriterion.ALERTS_ACKNOWLEDGED,
        "2 alert(s)",
    ),
    (
        "high risk",
        _set(new_high_risk_finding=True),
        DischargeCriterion.NO_NEW_HIGH_RISK_FINDING,
        "suicide",
    ),
]


@pytest.mark.parametrize(
    ("change", "criterion", "words"),
    [case[1:] for case in BLOCKING_CASES],
    ids=[case[0] for case in BLOCKING_CASES],
)
def test_each_criterion_blocks_on_its_own(
    change: Callable[[dict[str, Any]], None], criterion: DischargeCriterion, words: str
) -> None:
    kwargs: dict[str, Any] = {}
    change(kwargs)
    r = assess(now=125, **kwargs)
    assert not r.ready
    assert r.blocking_criteria == {criterion}
    assert any(words in b.message for b in r.blockers), [b.message for b in r.blockers]
    assert all(b.source.key for b in r.blockers)


def test_values_just_inside_the_limits_do_not_block() -> None:
    inside = replace(
        BASELINE,
        taken_at=at(110),
        systolic_mmhg=143,
        diastolic_mmhg=92,
        heart_rate_bpm=109,
        spo2_percent=94,
        respiratory_rate_per_min=24,
    )
    assert assess(now=125, latest_vitals=inside).ready
    low = replace(BASELINE, taken_at=at(120), systolic_mmhg=90, heart_rate_bpm=50)
    assert assess(now=125, latest_vitals=replace(low, respiratory_rate_per_min=10)).ready


def test_every_blocker_is_listed_not_just_the_first() -> None:
    r = assess(
        now=60,
        latest_vitals=replace(BASELINE, taken_at=at(55), systolic_mmhg=170),
        checklist=replace(CLEAR, escort_present=False, tolerating_fluids=False),
        unacknowledged_alerts=1,
    )
    assert r.blocking_criteria == {
        DischargeCriterion.MINIMUM_OBSERVATION,
        DischargeCriterion.VITALS_WITHIN_LIMITS,
        DischargeCriterion.VITALS_NEAR_BASELINE,
        DischargeCriterion.TOLERATING_FLUIDS,
        DischargeCriterion.ESCORT_PRESENT,
        DischargeCriterion.ALERTS_ACKNOWLEDGED,
    }


def test_vitals_taken_before_the_dose_ended_do_not_count() -> None:
    r = assess(now=125, latest_vitals=replace(BASELINE, taken_at=at(5)))
    assert DischargeCriterion.VITALS_RECENT in r.blocking_criteria


def test_dissociation_threshold_when_the_clinic_sets_one() -> None:
    margin = replace(
        POLICY.discharge,
        dissociation_max_rise_over_baseline=Sourced(
            2, DischargePolicy().dissociation_max_rise_over_baseline.source
        ),
    )
    policy = replace(POLICY, discharge=margin)
    base = DissociationRating(DissociationScale.CADSS_6, 1, at(-10))
    ok = DissociationRating(DissociationScale.CADSS_6, 3, at(115))
    assert assess(policy=policy, baseline_dissociation=base, latest_dissociation=ok).ready
    high = replace(ok, total=4)
    r = assess(policy=policy, baseline_dissociation=base, latest_dissociation=high)
    assert r.blocking_criteria == {DischargeCriterion.DISSOCIATION_RESOLVED}
    assert "3 above" in r.blockers[0].message
    missing = assess(policy=policy, baseline_dissociation=base)
    assert missing.blocking_criteria == {DischargeCriterion.DISSOCIATION_RESOLVED}
    # Default policy: the clinician's judgement alone (no verified CADSS cut-off).
    assert assess(baseline_dissociation=base, latest_dissociation=high).ready


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"unacknowledged_alerts": -1}, "unacknowledged_alerts"),
        ({"latest_vitals": replace(BASELINE, taken_at=at(130))}, "latest_vitals"),
        ({"dose": DoseTiming(Route.IV, START, at(-5))}, "ended_at"),
        (
            {
                "baseline_dissociation": DissociationRating(DissociationScale.CADSS, 3, at(-10)),
                "latest_dissociation": DissociationRating(DissociationScale.CADSS_6, 3, at(100)),
            },
            "latest_dissociation",
        ),
    ],
)
def test_contradictory_input_is_refused(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidMonitoringInput) as caught:
        assess(now=125, **kwargs)
    assert field in {p.field for p in caught.value.problems}


# --- property: never ready before the minimum observation time --------------------------------


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(Route),
    st.integers(0, 60),
    st.integers(0, 400),
    st.integers(0, 20),
)
def test_never_ready_before_the_minimum_observation_time(
    route: Route, dose_minutes: int, now: int, vitals_age: int
) -> None:
    end = at(dose_minutes)
    protocol = POLICY.protocol_for(route)
    now = max(now, dose_minutes)
    latest = replace(BASELINE, taken_at=at(max(now - vitals_age, dose_minutes) + 0.1))
    if latest.taken_at > at(now):
        latest = replace(latest, taken_at=at(now))
    r = assess(now=now, dose=DoseTiming(route, START, end), latest_vitals=latest)
    from_start = protocol.observation_from.value is TimeReference.DOSE_START
    anchor = START if from_start else end
    earliest = anchor + protocol.minimum_observation.value
    assert r.earliest_discharge_at == earliest
    if at(now) < earliest:
        assert not r.ready
        assert DischargeCriterion.MINIMUM_OBSERVATION in r.blocking_criteria
    if route is Route.INTRANASAL_ESKETAMINE:
        assert earliest >= START + timedelta(hours=2)


# --- property: a worse value never makes discharge more ready (issue 5 acceptance) ------------

# Each vital with the direction that is worse for discharge (+1 higher is worse, -1 lower is worse).
_WORSE = {
    "systolic_mmhg": (+1, -1),
    "diastolic_mmhg": (+1,),
    "heart_rate_bpm": (+1, -1),
    "spo2_percent": (-1,),
    "respiratory_rate_per_min": (+1, -1),
}
_RANGES = {
    "systolic_mmhg": (95, 230),
    "diastolic_mmhg": (40, 125),
    "heart_rate_bpm": (30, 170),
    "spo2_percent": (70, 100),
    "respiratory_rate_per_min": (4, 40),
}


# The middle of what discharge accepts with the test's baseline (124/78): systolic 90 to below
# 144 (160, and less than 20 above baseline), heart rate 50 to 109, breathing 10 to 24. Diastolic and
# SpO2 are worse in one direction only.
_MIDDLE = {
    "systolic_mmhg": 117,
    "diastolic_mmhg": 0,
    "heart_rate_bpm": 80,
    "spo2_percent": 101,
    "respiratory_rate_per_min": 17,
}


def _worse_value(field: str, value: int, step: int, direction: int) -> int:
    """``step`` further from the middle of the acceptable window, in ``direction``."""
    low, high = _RANGES[field]
    middle = _MIDDLE[field]
    # Only move away from the middle: towards an edge is worse, towards the middle is not.
    if (direction > 0 and value < middle) or (direction < 0 and value > middle):
        return value
    return max(low, min(high, value + direction * step))


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(sorted(_WORSE)),
    st.data(),
    st.integers(1, 40),
    st.integers(0, 4),
    st.integers(100, 240),
)
def test_a_worse_vital_never_removes_a_blocker(
    field: str, data: st.DataObject, step: int, alerts: int, now: int
) -> None:
    low, high = _RANGES[field]
    value = data.draw(st.integers(low, high))
    direction = data.draw(st.sampled_from(_WORSE[field]))
    worse = _worse_value(field, value, step, direction)
    if field == "diastolic_mmhg" and worse >= BASELINE.systolic_mmhg:
        return  # not a plausible reading (diastolic at or above systolic)
    base = assess(now=now, unacknowledged_alerts=alerts, latest_vitals=_reading(field, value, now))
    after = assess(now=now, unacknowledged_alerts=alerts, latest_vitals=_reading(field, worse, now))
    assert base.blocking_criteria <= after.blocking_criteria
    assert not (after.ready and not base.ready)


def _reading(field: str, value: int, now: float) -> VitalSign:
    return replace(BASELINE, taken_at=at(now - 5), **{field: value})


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(SedationLevel),
    st.sampled_from(SedationLevel),
    st.integers(0, 3),
    st.integers(0, 3),
    st.booleans(),
    st.booleans(),
    st.lists(st.sampled_from(sorted(CLEAR.__dataclass_fields__)), unique=True),
)
def test_more_sedation_alerts_findings_or_unmet_items_never_make_discharge_readier(
    a: SedationLevel,
    b: SedationLevel,
    alerts: int,
    more_alerts: int,
    finding: bool,
    add_finding: bool,
    unmet: list[str],
) -> None:
    lighter, deeper = sorted((a, b), key=lambda s: s.rank)
    base = assess(
        latest_vitals=replace(BASELINE, taken_at=at(120), sedation=lighter),
        unacknowledged_alerts=alerts,
        new_high_risk_finding=finding,
    )
    checklist = replace(
        CLEAR,
        **{name: name == "on_supplemental_oxygen" for name in unmet},
    )
    after = assess(
        latest_vitals=replace(BASELINE, taken_at=at(120), sedation=deeper),
        unacknowledged_alerts=alerts + more_alerts,
        new_high_risk_finding=finding or add_finding,
        checklist=checklist,
    )
    assert base.blocking_criteria <= after.blocking_criteria
    assert not (after.ready and not base.ready)
