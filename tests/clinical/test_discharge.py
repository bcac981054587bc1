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
