"""The medical director's overrides: applied to the cited defaults, listed, refused when wrong."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapstone.clinical.alerts import AlertGrade, evaluate
from kapstone.clinical.monitoring_overrides import (
    THRESHOLD_RANGE,
    Change,
    InvalidOverride,
    apply_overrides,
    describe_changes,
)
from kapstone.clinical.monitoring_policy import DEFAULT_MONITORING_POLICY
from kapstone.clinical.routes import Route
from kapstone.clinical.vital_signs import VitalSign

AT = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def reading(**changes: int) -> VitalSign:
    values = {
        "systolic_mmhg": 124,
        "diastolic_mmhg": 78,
        "heart_rate_bpm": 72,
        "spo2_percent": 98,
        "respiratory_rate_per_min": 14,
    } | changes
    return VitalSign(taken_at=AT, **values)


def tune(overrides, **kwargs):  # type: ignore[no-untyped-def]
    return apply_overrides(
        DEFAULT_MONITORING_POLICY,
        overrides,
        version=kwargs.get("version", "clinic-1"),
        set_by="Dr Director",
        reason="our anaesthetist's protocol",
    )


def test_a_lowered_threshold_fires_earlier_and_says_who_set_it():
    tuned = tune({"rules": {"sbp.high.recheck": {"threshold": 150}}})
    assert tuned.version == "clinic-1"
    default = evaluate(
        reading(systolic_mmhg=155),
        None,
        policy=DEFAULT_MONITORING_POLICY,
        route=Route.IV,
        infusion_running=True,
    )
    assert default.grade is AlertGrade.NONE
    assessed = evaluate(
        reading(systolic_mmhg=155), None, policy=tuned, route=Route.IV, infusion_running=True
    )
    assert assessed.grade is AlertGrade.RECHECK_IN_5_MINUTES
    assert assessed.policy_version == "clinic-1"
    (fired,) = assessed.fired
    assert fired.rule_id == "sbp.high.recheck"
    assert (fired.source.key, fired.source.evidence.value) == ("§2.2", "clinic_policy")
    assert fired.source.note.startswith(
        "Set by Dr Director: our anaesthetist's protocol (the default was unverified: Seed"
    )


def test_grades_pre_dose_and_discharge_limits_change_and_are_listed():
    tuned = tune(
        {
            "rules": {
                "symptom.agitation": {"grade": "pause_or_slow_infusion"},
                "hr.high.pause": {"grade": "stop_and_call_prescriber"},
            },
            "pre_dose": {"systolic_above": 150},
            "discharge": {"spo2_at_least": 95},
        }
    )
    assert tuned.pre_dose.systolic_above.value == 150
    assert tuned.pre_dose.diastolic_above == DEFAULT_MONITORING_POLICY.pre_dose.diastolic_above
    assert tuned.discharge.spo2_at_least.value == 95
    assert set(describe_changes(DEFAULT_MONITORING_POLICY, tuned)) == {
        Change("hr.high.pause", "120 → pause_or_slow_infusion", "120 → stop_and_call_prescriber"),
        Change("symptom.agitation", "recheck_in_5_minutes", "pause_or_slow_infusion"),
        Change("pre_dose.systolic_above", "140", "150"),
        Change("discharge.spo2_at_least", "94", "95"),
    }


def test_every_problem_is_named_and_nothing_is_applied():
    with pytest.raises(InvalidOverride) as refused:
        tune(
            {
                "rules": {
                    "sbp.high.recheck": {"threshold": "150"},
                    "no.such.rule": {"threshold": 1},
                    "symptom.chest_pain": {"threshold": 3, "grade": "panic"},
                    "hr.low.stop": {"grade": "none"},
                },
                "pre_dose": {"systolic_above": 300, "pulse": 80},
                "alarms": {},
            }
        )
    where = {p.field for p in refused.value.problems}
    assert where == {
        "alarms",
        "rules.no.such.rule",
        "rules.sbp.high.recheck.threshold",
        "rules.symptom.chest_pain",
        "rules.symptom.chest_pain.grade",
        "rules.hr.low.stop.grade",
        "pre_dose.systolic_above",
        "pre_dose.pulse",
    }


def test_no_overrides_is_the_default_under_a_new_name():
    tuned = tune({}, version="clinic-0")
    assert describe_changes(DEFAULT_MONITORING_POLICY, tuned) == ()
    assert tuned.threshold_rules == DEFAULT_MONITORING_POLICY.threshold_rules


@given(
    st.sampled_from([r.rule_id for r in DEFAULT_MONITORING_POLICY.threshold_rules]),
    st.integers(*THRESHOLD_RANGE),
)
def test_any_threshold_in_range_is_taken_exactly_and_only_that_rule_changes(rule_id, threshold):
    tuned = tune({"rules": {rule_id: {"threshold": threshold}}})
    for before, after in zip(
        DEFAULT_MONITORING_POLICY.threshold_rules, tuned.threshold_rules, strict=True
    ):
        if before.rule_id == rule_id:
            assert after.threshold == threshold and after.grade == before.grade
        else:
            assert after == before
    changes = describe_changes(DEFAULT_MONITORING_POLICY, tuned)
    assert [c.where for c in changes] == ([] if threshold == _default(rule_id) else [rule_id])


def _default(rule_id: str) -> int:
    return next(
        r.threshold for r in DEFAULT_MONITORING_POLICY.threshold_rules if r.rule_id == rule_id
    )
