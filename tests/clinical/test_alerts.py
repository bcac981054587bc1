"""Alert engine: every rule at its exact boundary, monotone grading, pre-dose BP rule, sources."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapstone.clinical import discharge, monitoring_cadence
from kapstone.clinical.alerts import (
    AlertGrade,
    PreDoseOutcome,
    PrescriberDecisionToProceed,
    evaluate,
    highest_grade,
    pre_dose_blood_pressure_check,
)
from kapstone.clinical.monitoring_policy import (
    DEFAULT_MONITORING_POLICY,
    Direction,
    InvalidMonitoringInput,
    InvalidMonitoringPolicy,
    Measure,
    MonitoringPolicy,
    PreDoseBloodPressurePolicy,
    Sourced,
    Symptom,
    ThresholdRule,
)
from kapstone.clinical.provenance import Evidence, Source, Verification
from kapstone.clinical.routes import Route
from kapstone.clinical.vital_signs import SedationLevel, VitalSign
from tests.reference import REFERENCE

POLICY = DEFAULT_MONITORING_POLICY
T0 = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)

BASELINE = VitalSign(T0 - timedelta(minutes=10), 120, 80, 70, 98, 14, None, SedationLevel.ALERT)
NORMAL = replace(BASELINE, taken_at=T0 + timedelta(minutes=20))

FIELD = {
    Measure.SYSTOLIC: "systolic_mmhg",
    Measure.DIASTOLIC: "diastolic_mmhg",
    Measure.HEART_RATE: "heart_rate_bpm",
    Measure.SPO2: "spo2_percent",
    Measure.RESPIRATORY_RATE: "respiratory_rate_per_min",
    Measure.SYSTOLIC_RISE_FROM_BASELINE: "systolic_mmhg",
    Measure.DIASTOLIC_RISE_FROM_BASELINE: "diastolic_mmhg",
}


def with_value(measure: Measure, value: int, base: VitalSign = BASELINE) -> VitalSign:
    if measure.needs_baseline:
        value += getattr(base, FIELD[measure])
    return replace(NORMAL, **{FIELD[measure]: value})


def assess(reading: VitalSign | None, **kwargs: Any) -> Any:
    kwargs.setdefault("policy", POLICY)
    kwargs.setdefault("route", Route.IV)
    kwargs.setdefault("infusion_running", True)
    baseline = kwargs.pop("baseline", BASELINE)
    return evaluate(reading, baseline, **kwargs)


def fired_ids(reading: VitalSign | None, **kwargs: Any) -> set[str]:
    return {f.rule_id for f in assess(reading, **kwargs).fired}


def test_a_normal_reading_raises_nothing() -> None:
    a = assess(NORMAL)
    assert a.grade is AlertGrade.NONE
    assert a.fired == ()
    assert a.policy_version == POLICY.version
    assert a.reading_taken_at == NORMAL.taken_at


# --- every threshold rule, trigger and no-trigger at the exact boundary -----------------------


@pytest.mark.parametrize("rule", POLICY.threshold_rules, ids=lambda r: r.rule_id)
def test_threshold_rule_boundary(rule: ThresholdRule) -> None:
    if rule.direction is Direction.HIGH:
        trigger, quiet = rule.threshold, rule.threshold - 1
    else:
        trigger, quiet = rule.threshold - 1, rule.threshold
    fired = {f.rule_id: f for f in assess(with_value(rule.measure, trigger)).fired}
    assert rule.rule_id in fired
    assert fired[rule.rule_id].rule_grade is rule.grade
    assert fired[rule.rule_id].source == rule.source
    assert str(rule.threshold) in fired[rule.rule_id].message
    assert rule.rule_id not in fired_ids(with_value(rule.measure, quiet))


@pytest.mark.parametrize(
    ("field", "value", "rule_id", "grade"),
    [
        ("systolic_mmhg", 160, "sbp.high.recheck", AlertGrade.RECHECK_IN_5_MINUTES),
        ("systolic_mmhg", 180, "sbp.high.pause", AlertGrade.PAUSE_OR_SLOW_INFUSION),
        ("systolic_mmhg", 200, "sbp.high.stop", AlertGrade.STOP_AND_CALL_PRESCRIBER),
        ("systolic_mmhg", 89, "sbp.low.recheck", AlertGrade.RECHECK_IN_5_MINUTES),
        ("diastolic_mmhg", 110, "dbp.high.pause", AlertGrade.PAUSE_OR_SLOW_INFUSION),
        ("diastolic_mmhg", 120, "dbp.high.stop", AlertGrade.STOP_AND_CALL_PRESCRIBER),
        ("heart_rate_bpm", 120, "hr.high.pause", AlertGrade.PAUSE_OR_SLOW_INFUSION),
        ("heart_rate_bpm", 39, "hr.low.stop", AlertGrade.STOP_AND_CALL_PRESCRIBER),
        ("spo2_percent", 93, "spo2.low.recheck", AlertGrade.RECHECK_IN_5_MINUTES),
        ("spo2_percent", 91, "spo2.low.stop", AlertGrade.STOP_AND_CALL_PRESCRIBER),
        ("spo2_percent", 84, "spo2.low.emergency", AlertGrade.EMERGENCY),
        ("respiratory_rate_per_min", 7, "rr.low.stop", AlertGrade.STOP_AND_CALL_PRESCRIBER),
    ],
)
def test_default_thresholds_worked_examples(
    field: str, value: int, rule_id: str, grade: AlertGrade
) -> None:
    # Pins the shipped defaults so a silent change to the policy shows up in review.
    reading = replace(NORMAL, **{field: value})
    # A baseline near the value keeps the change-from-baseline rules out of this example.
    base = replace(BASELINE, systolic_mmhg=200, diastolic_mmhg=100)
    a = assess(reading, baseline=base)
    assert rule_id in {f.rule_id for f in a.fired}
    assert a.grade is grade


def test_label_rise_from_baseline() -> None:
    # SPRAVATO-US: a rise of >= 40 systolic or >= 25 diastolic, from an unremarkable absolute value.
    low = replace(BASELINE, systolic_mmhg=100, diastolic_mmhg=60)
    a = assess(replace(NORMAL, systolic_mmhg=140, diastolic_mmhg=85), baseline=low)
    assert {f.rule_id for f in a.fired} == {"sbp.rise.pause", "dbp.rise.pause"}
    assert (
        "rose 40 mmHg from the pre-dose baseline of 100" in a.fired[0].message + a.fired[1].message
    )
    assert all(f.source.key == "SPRAVATO-US" for f in a.fired)
    quiet = assess(replace(NORMAL, systolic_mmhg=139, diastolic_mmhg=84), baseline=low)
    assert quiet.grade is AlertGrade.NONE


def test_without_baseline_rise_rules_are_skipped_and_said_so() -> None:
    a = assess(replace(NORMAL, systolic_mmhg=150), baseline=None)
    assert a.grade is AlertGrade.NONE
    assert any("baseline" in n for n in a.notes)


# --- sedation and symptoms --------------------------------------------------------------------


@pytest.mark.parametrize("rule", POLICY.sedation_rules, ids=lambda r: r.rule_id)
def test_sedation_rule_boundary(rule: Any) -> None:
    lighter = list(SedationLevel)[rule.at_least.rank - 1]
    assert rule.rule_id in fired_ids(replace(NORMAL, sedation=rule.at_least))
    assert rule.rule_id not in fired_ids(replace(NORMAL, sedation=lighter))


@pytest.mark.parametrize("rule", POLICY.symptom_rules, ids=lambda r: r.rule_id)
def test_symptom_rule_trigger_and_no_trigger(rule: Any) -> None:
    sedated = rule.only_when_sedated_at_least or SedationLevel.ALERT
    reading = replace(NORMAL, sedation=sedated)
    a = assess(reading, symptoms=[rule.symptom])
    assert rule.rule_id in {f.rule_id for f in a.fired}
    assert rule.rule_id not in fired_ids(reading, symptoms=[])
    if rule.only_when_sedated_at_least is not None:
        lighter = list(SedationLevel)[rule.only_when_sedated_at_least.rank - 1]
        assert rule.rule_id not in fired_ids(
            replace(NORMAL, sedation=lighter), symptoms=[rule.symptom]
        )


def test_vomiting_while_sedated_also_from_a_sedation_charted_without_vitals() -> None:
    a = assess(None, symptoms=[Symptom.VOMITING], sedation=SedationLevel.DROWSY)
    assert {f.rule_id for f in a.fired} == {"symptom.vomiting_while_sedated"}
    assert a.grade is AlertGrade.STOP_AND_CALL_PRESCRIBER
    assert assess(None, symptoms=[Symptom.VOMITING]).grade is AlertGrade.NONE


def test_neurological_signs_are_an_emergency_on_their_own() -> None:
    a = assess(None, symptoms=[Symptom.NEUROLOGICAL_SIGNS])
    assert a.grade is AlertGrade.EMERGENCY


@pytest.mark.parametrize("rule", POLICY.hypertensive_emergency_rules, ids=lambda r: r.rule_id)
def test_hypertensive_emergency_needs_severe_bp_and_a_symptom(rule: Any) -> None:
    symptom = sorted(rule.symptoms)[0]
    at_sbp = replace(NORMAL, systolic_mmhg=rule.systolic_at_least)
    at_dbp = replace(
        NORMAL, systolic_mmhg=rule.diastolic_at_least + 10, diastolic_mmhg=rule.diastolic_at_least
    )
    below = replace(
        NORMAL, systolic_mmhg=rule.systolic_at_least - 1, diastolic_mmhg=rule.diastolic_at_least - 1
    )
    assert rule.rule_id in fired_ids(at_sbp, symptoms=[symptom])
    assert rule.rule_id in fired_ids(at_dbp, symptoms=[symptom])
    assert rule.rule_id not in fired_ids(below, symptoms=[symptom])
    assert rule.rule_id not in fired_ids(at_sbp, symptoms=[])
    assert assess(at_sbp, symptoms=[symptom]).grade is AlertGrade.EMERGENCY


# --- grades, routes, policy -------------------------------------------------------------------


def test_pause_becomes_call_the_prescriber_when_nothing_is_infusing() -> None:
    high = replace(NORMAL, systolic_mmhg=185)
    iv = assess(high, route=Route.IV, infusion_running=True)
    assert iv.grade is AlertGrade.PAUSE_OR_SLOW_INFUSION
    esk = assess(high, route=Route.INTRANASAL_ESKETAMINE, infusion_running=False)
    assert esk.grade is AlertGrade.STOP_AND_CALL_PRESCRIBER
    pause = next(f for f in esk.fired if f.rule_id == "sbp.high.pause")
    assert pause.rule_grade is AlertGrade.PAUSE_OR_SLOW_INFUSION
    assert "No infusion running" in pause.message
    gentle = replace(
        POLICY,
        pause_without_infusion_becomes=Sourced(
            AlertGrade.RECHECK_IN_5_MINUTES, POLICY.pause_without_infusion_becomes.source
        ),
    )
    after_iv = assess(high, route=Route.IV, infusion_running=False, policy=gentle)
    assert after_iv.grade is AlertGrade.RECHECK_IN_5_MINUTES


def test_only_iv_can_have_an_infusion_running() -> None:
    with pytest.raises(InvalidMonitoringInput) as caught:
        assess(NORMAL, route=Route.INTRANASAL_ESKETAMINE, infusion_running=True)
    assert caught.value.problems[0].field == "infusion_running"


def test_fired_rules_are_listed_highest_first_and_all_reported() -> None:
    a = assess(replace(NORMAL, spo2_percent=84, heart_rate_bpm=125))
    ids = [f.rule_id for f in a.fired]
    assert set(ids) >= {"spo2.low.emergency", "spo2.low.stop", "spo2.low.recheck", "hr.high.pause"}
    assert [f.grade.rank for f in a.fired] == sorted((f.grade.rank for f in a.fired), reverse=True)
    assert a.grade is AlertGrade.EMERGENCY


def test_thresholds_are_tunable_by_policy() -> None:
    rules = tuple(
        replace(r, threshold=170) if r.rule_id == "sbp.high.pause" else r
        for r in POLICY.threshold_rules
    )
    tuned = replace(POLICY, threshold_rules=rules, version="clinic-2027-01")
    reading = replace(NORMAL, systolic_mmhg=172)
    assert "sbp.high.pause" in fired_ids(reading, policy=tuned)
    assert "sbp.high.pause" not in fired_ids(reading)
    assert assess(reading, policy=tuned).policy_version == "clinic-2027-01"


def test_policy_refuses_duplicate_rule_ids_and_non_monotone_mapping() -> None:
    with pytest.raises(InvalidMonitoringPolicy) as caught:
        replace(POLICY, threshold_rules=(*POLICY.threshold_rules, POLICY.threshold_rules[0]))
    assert "sbp.high.recheck" in str(caught.value)
    with pytest.raises(InvalidMonitoringPolicy):
        replace(
            POLICY,
            pause_without_infusion_becomes=Sourced(
                AlertGrade.EMERGENCY, POLICY.pause_without_infusion_becomes.source
            ),
        )


def test_grade_scale_order() -> None:
    assert [g.rank for g in AlertGrade] == [0, 1, 2, 3, 4]
    assert highest_grade([]) is AlertGrade.NONE
    assert highest_grade([AlertGrade.EMERGENCY, AlertGrade.RECHECK_IN_5_MINUTES]) is (
        AlertGrade.EMERGENCY
    )


# --- properties: a worse value never lowers the grade -----------------------------------------


def _edges(measure: Measure) -> tuple[int, int]:
    """(lowest HIGH threshold, highest LOW threshold) for an absolute measure."""
    highs = [
        r.threshold
        for r in POLICY.threshold_rules
        if r.measure is measure and r.direction is Direction.HIGH
    ]
    lows = [
        r.threshold
        for r in POLICY.threshold_rules
        if r.measure is measure and r.direction is Direction.LOW
    ]
    return min(highs, default=10_000), max(lows, default=-10_000)


ABSOLUTE = {
    Measure.SYSTOLIC: (50, 300),
    Measure.DIASTOLIC: (20, 200),
    Measure.HEART_RATE: (20, 250),
    Measure.SPO2: (50, 100),
    Measure.RESPIRATORY_RATE: (2, 70),
}


@st.composite
def context(draw: st.DrawFn) -> dict[str, Any]:
    running = draw(st.booleans())
    route = Route.IV if running else draw(st.sampled_from(Route))
    return {
        "baseline": draw(
            st.none()
            | st.builds(
                lambda s, d: replace(BASELINE, systolic_mmhg=s, diastolic_mmhg=d),
                st.integers(90, 200),
                st.integers(50, 89),
            )
        ),
        "route": route,
        "infusion_running": running,
        "symptoms": draw(st.frozensets(st.sampled_from(Symptom))),
        "sedation": draw(st.none() | st.sampled_from(SedationLevel)),
    }


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(sorted(ABSOLUTE)), st.data(), context())
def test_higher_above_the_low_band_never_lowers_the_grade(
    measure: Measure, data: st.DataObject, ctx: dict[str, Any]
) -> None:
    # Above every LOW threshold, higher is worse (BP, HR, RR high; SpO2 has no HIGH rule).
    lo, hi = ABSOLUTE[measure]
    _, low_edge = _edges(measure)
    v1 = data.draw(st.integers(max(lo, low_edge), hi))
    v2 = data.draw(st.integers(v1, hi))
    g1 = assess(replace(NORMAL, **{FIELD[measure]: v1}), **ctx).grade
    g2 = assess(replace(NORMAL, **{FIELD[measure]: v2}), **ctx).grade
    assert g2.rank >= g1.rank


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(sorted(ABSOLUTE)), st.data(), context())
def test_lower_below_the_high_band_never_lowers_the_grade(
    measure: Measure, data: st.DataObject, ctx: dict[str, Any]
) -> None:
    # Below every HIGH threshold and at or under the baseline, lower is worse (SpO2, HR, RR, BP).
    lo, hi = ABSOLUTE[measure]
    high_edge, _ = _edges(measure)
    ceiling = min(hi, high_edge - 1)
    if ctx["baseline"] is not None and measure in (Measure.SYSTOLIC, Measure.DIASTOLIC):
        ceiling = min(ceiling, getattr(ctx["baseline"], FIELD[measure]))
    v1 = data.draw(st.integers(lo, max(lo, ceiling)))
    v2 = data.draw(st.integers(lo, v1))
    g1 = assess(replace(NORMAL, **{FIELD[measure]: v1}), **ctx).grade
    g2 = assess(replace(NORMAL, **{FIELD[measure]: v2}), **ctx).grade
    assert g2.rank >= g1.rank


@settings(max_examples=200, deadline=None)
@given(context(), st.sampled_from(SedationLevel), st.sampled_from(SedationLevel))
def test_deeper_sedation_never_lowers_the_grade(
    ctx: dict[str, Any], a: SedationLevel, b: SedationLevel
) -> None:
    lighter, deeper = sorted((a, b), key=lambda s: s.rank)
    ctx["sedation"] = None
    g1 = assess(replace(NORMAL, sedation=lighter), **ctx).grade
    g2 = assess(replace(NORMAL, sedation=deeper), **ctx).grade
    assert g2.rank >= g1.rank


@settings(max_examples=300, deadline=None)
@given(context(), st.sampled_from(Symptom), st.booleans())
def test_adding_a_symptom_never_lowers_the_grade(
    ctx: dict[str, Any], extra: Symptom, with_reading: bool
) -> None:
    reading = replace(NORMAL, systolic_mmhg=185) if with_reading else None
    before = assess(reading, **ctx).grade
    ctx["symptoms"] = ctx["symptoms"] | {extra}
    assert assess(reading, **ctx).grade.rank >= before.rank


# --- pre-dose blood pressure ------------------------------------------------------------------


def pre(sbp: int, dbp: int, **kwargs: Any) -> Any:
    kwargs.setdefault("policy", POLICY)
    return pre_dose_blood_pressure_check(
        replace(BASELINE, systolic_mmhg=sbp, diastolic_mmhg=dbp), **kwargs
    )


@pytest.mark.parametrize(
    ("sbp", "dbp", "outcome"),
    [
        (140, 90, PreDoseOutcome.PROCEED),
        (141, 90, PreDoseOutcome.NEEDS_PRESCRIBER_DECISION),
        (140, 91, PreDoseOutcome.NEEDS_PRESCRIBER_DECISION),
        (118, 76, PreDoseOutcome.PROCEED),
    ],
)
def test_pre_dose_guide_is_strictly_above_140_over_90(
    sbp: int, dbp: int, outcome: PreDoseOutcome
) -> None:
    result = pre(sbp, dbp)
    assert result.outcome is outcome
    assert result.elevated is (outcome is PreDoseOutcome.NEEDS_PRESCRIBER_DECISION)
    assert result.sources[0].key == "SPRAVATO-EU"
    assert result.policy_version == POLICY.version
    assert f"{sbp}/{dbp}" in result.reasons[0]


def test_documented_prescriber_decision_lets_dosing_proceed() -> None:
    decision = PrescriberDecisionToProceed(
        "Dr Okafor", BASELINE.taken_at + timedelta(minutes=2), "Asymptomatic; benefit outweighs"
    )
    result = pre(150, 95, prescriber_decision=decision)
    assert result.outcome is PreDoseOutcome.PROCEED
    assert any("Dr Okafor" in r for r in result.reasons)
    stale = replace(decision, decided_at=BASELINE.taken_at - timedelta(days=1))
    assert pre(150, 95, prescriber_decision=stale).outcome is (
        PreDoseOutcome.NEEDS_PRESCRIBER_DECISION
    )
    with pytest.raises(InvalidMonitoringInput):
        pre(150, 95, prescriber_decision=replace(decision, rationale="  "))


def test_severe_pre_dose_bp_is_flagged() -> None:
    assert pre(180, 100).severe
    assert pre(170, 110).severe
    assert not pre(179, 109).severe
    assert any("hypertensive crisis" in r for r in pre(180, 100).reasons)


def test_age_split_is_off_by_default_and_tunable() -> None:
    assert pre(145, 85, age_years=70).outcome is PreDoseOutcome.NEEDS_PRESCRIBER_DECISION
    older = replace(
        POLICY,
        pre_dose=replace(
            PreDoseBloodPressurePolicy(),
            older_adult_age=Sourced(65, PreDoseBloodPressurePolicy().older_adult_age.source),
        ),
    )
    assert pre(145, 85, age_years=65, policy=older).outcome is PreDoseOutcome.PROCEED
    assert pre(151, 85, age_years=65, policy=older).outcome is (
        PreDoseOutcome.NEEDS_PRESCRIBER_DECISION
    )
    assert pre(145, 85, age_years=64, policy=older).outcome is (
        PreDoseOutcome.NEEDS_PRESCRIBER_DECISION
    )
    unknown = pre(145, 85, policy=older)
    assert unknown.outcome is PreDoseOutcome.NEEDS_PRESCRIBER_DECISION
    assert any("Age not given" in r for r in unknown.reasons)


# --- provenance of everything in the policy ---------------------------------------------------


def _sources(obj: object, seen: set[int] | None = None) -> list[Source]:
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return []
    seen.add(id(obj))
    if isinstance(obj, Source):
        return [obj]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return [s for f in dataclasses.fields(obj) for s in _sources(getattr(obj, f.name), seen)]
    if isinstance(obj, tuple | frozenset | list):
        return [s for item in obj for s in _sources(item, seen)]
    return []


def all_sources() -> list[Source]:
    found = _sources(POLICY)
    for module in (monitoring_cadence, discharge):
        found += [v for v in vars(module).values() if isinstance(v, Source)]
    return found


def test_every_source_key_appears_in_the_reference() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    sources = all_sources()
    assert len(sources) > 40
    for source in sources:
        if source.key.startswith("§"):
            pattern = rf"^#+ {re.escape(source.key[1:])}[. ]"
            assert re.search(pattern, text, flags=re.MULTILINE), source
        else:
            assert f"| {source.key} |" in text, source


def test_unverified_values_ship_only_as_clinic_policy() -> None:
    for source in all_sources():
        if source.verification is Verification.UNVERIFIED:
            assert source.evidence is Evidence.CLINIC_POLICY, source
    # The numeric intra-session thresholds are unverified seed values (§2.2, §9), except the
    # label's rise-from-baseline figures.
    for rule in POLICY.threshold_rules:
        if not rule.measure.needs_baseline:
            assert rule.source.is_clinic_policy, rule.rule_id


def test_policy_is_versioned() -> None:
    assert MonitoringPolicy().version == "default-2026-11"
    assert replace(POLICY, version="v2").version == "v2"
