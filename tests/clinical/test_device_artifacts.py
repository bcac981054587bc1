"""The artifact policy for monitor readings: a jump beyond the director's limits is held, and the
next reading confirms it (graded) or shows it was an artifact (accepted, back to the level before).
Property tests over readings near and far apart, cuff and continuous windows, and the limits."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapstone.clinical.device_artifacts import (
    KIND_OF,
    DeviceSample,
    SignalKind,
    Verdict,
    judge_device_reading,
    jumps_between,
)
from kapstone.clinical.monitoring_policy import (
    DEFAULT_MONITORING_POLICY,
    DeviceReadingPolicy,
    Measure,
    Sourced,
)
from kapstone.clinical.provenance import Evidence, Verification
from kapstone.clinical.vital_signs import VitalSign

POLICY = DEFAULT_MONITORING_POLICY
T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def reading(minutes: float = 0, sys=120, dia=78, hr=72, spo2=98, rr=14) -> VitalSign:  # type: ignore[no-untyped-def]
    return VitalSign(T0 + timedelta(minutes=minutes), sys, dia, hr, spo2, rr)


def sample(v: VitalSign, verdict: Verdict = Verdict.ACCEPTED) -> DeviceSample:
    return DeviceSample(v, verdict)


readings = st.builds(
    lambda m, s, d, h, o, r: reading(m, s, d, h, o, r),
    st.integers(0, 3),
    st.integers(90, 200),
    st.integers(50, 89),
    st.integers(40, 150),
    st.integers(80, 100),
    st.integers(8, 30),
)


def test_every_limit_is_clinic_policy_with_its_source():
    device = POLICY.device
    for value in (
        device.systolic_jump,
        device.spo2_jump,
        device.cuff_window,
        device.feed_silent_after,
    ):
        assert value.source.evidence is Evidence.CLINIC_POLICY
        assert value.source.verification is Verification.UNVERIFIED
    assert KIND_OF[Measure.SYSTOLIC] is SignalKind.CUFF
    assert KIND_OF[Measure.SPO2] is SignalKind.CONTINUOUS


def test_the_first_reading_is_accepted():
    decision = judge_device_reading(reading(), [], POLICY)
    assert decision.verdict is Verdict.ACCEPTED and decision.policy_version == POLICY.version


def test_a_spo2_drop_is_held_then_confirmed_and_says_why():
    settled = sample(reading(0))
    drop = reading(1, spo2=84)
    held = judge_device_reading(drop, [settled], POLICY)
    assert held.verdict is Verdict.HELD
    assert held.message.startswith("Awaiting confirmation") and "spo2 98 to 84 %" in held.message
    assert held.jumps[0].source.evidence is Evidence.CLINIC_POLICY
    confirmed = judge_device_reading(
        reading(2, spo2=85), [settled, sample(drop, Verdict.HELD)], POLICY
    )
    assert confirmed.verdict is Verdict.CONFIRMED and confirmed.confirms == drop.taken_at


def test_cuff_readings_are_compared_over_a_longer_window_than_continuous_ones():
    before = sample(reading(0))
    later = reading(12, sys=175, hr=120)  # 12 min: beyond the continuous window, within the cuff's
    decision = judge_device_reading(later, [before], POLICY)
    assert decision.verdict is Verdict.HELD
    assert {j.measure for j in decision.jumps} == {Measure.SYSTOLIC}


@settings(max_examples=300, deadline=None)
@given(readings, readings)
def test_held_only_when_a_change_is_beyond_its_limit(before: VitalSign, after: VitalSign):
    after = replace(after, taken_at=before.taken_at + timedelta(minutes=1))
    decision = judge_device_reading(after, [sample(before)], POLICY)
    assert (decision.verdict is Verdict.HELD) == bool(jumps_between(before, after, POLICY.device))
    for jump in decision.jumps:
        assert abs(jump.after - jump.before) > jump.limit


@settings(max_examples=200, deadline=None)
@given(readings, readings)
def test_nothing_is_held_against_a_reading_older_than_every_window(
    before: VitalSign, after: VitalSign
):
    gap = max(POLICY.device.cuff_window.value, POLICY.device.continuous_window.value)
    after = replace(after, taken_at=before.taken_at + gap + timedelta(seconds=1))
    assert judge_device_reading(after, [sample(before)], POLICY).verdict is Verdict.ACCEPTED


@settings(max_examples=200, deadline=None)
@given(readings, readings)
def test_the_same_values_again_confirm_a_held_jump(before: VitalSign, jumped: VitalSign):
    jumped = replace(jumped, taken_at=before.taken_at + timedelta(minutes=1))
    first = judge_device_reading(jumped, [sample(before)], POLICY)
    again = replace(jumped, taken_at=jumped.taken_at + timedelta(minutes=1))
    second = judge_device_reading(again, [sample(before), sample(jumped, first.verdict)], POLICY)
    if first.verdict is Verdict.HELD:
        assert second.verdict is Verdict.CONFIRMED and second.confirms == jumped.taken_at
    else:
        assert second.verdict is Verdict.ACCEPTED  # the same values: no jump at all


@settings(max_examples=200, deadline=None)
@given(readings, readings)
def test_back_to_the_level_before_is_accepted_and_never_confirms(
    before: VitalSign, jumped: VitalSign
):
    jumped = replace(jumped, taken_at=before.taken_at + timedelta(minutes=1))
    back = replace(before, taken_at=before.taken_at + timedelta(minutes=2))
    history = [sample(before), sample(jumped, Verdict.HELD)]
    decision = judge_device_reading(back, history, POLICY)
    assert decision.verdict is Verdict.ACCEPTED and decision.confirms is None


@settings(max_examples=200, deadline=None)
@given(readings, readings, st.integers(0, 30))
def test_looser_limits_never_hold_what_tighter_ones_accept(
    before: VitalSign, after: VitalSign, extra: int
):
    after = replace(after, taken_at=before.taken_at + timedelta(minutes=1))
    d = POLICY.device

    def looser(s: Sourced[int]) -> Sourced[int]:
        return Sourced(s.value + extra, s.source)

    loose = replace(
        POLICY,
        device=DeviceReadingPolicy(
            systolic_jump=looser(d.systolic_jump),
            diastolic_jump=looser(d.diastolic_jump),
            heart_rate_jump=looser(d.heart_rate_jump),
            spo2_jump=looser(d.spo2_jump),
            respiratory_rate_jump=looser(d.respiratory_rate_jump),
        ),
    )
    tight = judge_device_reading(after, [sample(before)], POLICY)
    if tight.verdict is Verdict.ACCEPTED:
        assert judge_device_reading(after, [sample(before)], loose).verdict is Verdict.ACCEPTED


@settings(max_examples=200, deadline=None)
@given(st.lists(readings, min_size=1, max_size=6), readings)
def test_the_verdict_ignores_the_order_history_is_given_in(
    history: list[VitalSign], new: VitalSign
):
    spaced = [replace(r, taken_at=T0 + timedelta(minutes=i)) for i, r in enumerate(history)]
    samples = []
    for r in spaced:
        samples.append(sample(r, judge_device_reading(r, samples, POLICY).verdict))
    new = replace(new, taken_at=T0 + timedelta(minutes=len(history)))
    forwards = judge_device_reading(new, samples, POLICY)
    assert judge_device_reading(new, list(reversed(samples)), POLICY) == forwards
    # A reading is never judged against one taken after it.
    assert (
        judge_device_reading(
            replace(new, taken_at=T0 - timedelta(minutes=1)), samples, POLICY
        ).verdict
        is Verdict.ACCEPTED
    )


@pytest.mark.parametrize("verdict", list(Verdict))
def test_a_message_for_every_verdict(verdict: Verdict):
    before = sample(reading(0))
    jumped = reading(1, hr=130)
    history = (
        [before] if verdict is not Verdict.CONFIRMED else [before, sample(jumped, Verdict.HELD)]
    )
    new = reading(
        0.5 if verdict is Verdict.HELD else 2, hr=130 if verdict is not Verdict.ACCEPTED else 72
    )
    decision = judge_device_reading(new, history, POLICY)
    assert decision.verdict is verdict
    assert bool(decision.message) == (verdict is not Verdict.ACCEPTED)


def test_the_director_tunes_the_limits_as_a_new_policy_version():
    from kapstone.clinical.monitoring_overrides import (
        InvalidOverride,
        apply_overrides,
        describe_changes,
    )

    tuned = apply_overrides(
        POLICY, {"device": {"spo2_jump": 12}}, version="v2", set_by="Dr Reyes", reason="Probes"
    )
    drop = reading(1, spo2=88)  # 10 points: held by default, accepted under v2
    assert judge_device_reading(drop, [sample(reading(0))], POLICY).verdict is Verdict.HELD
    decision = judge_device_reading(drop, [sample(reading(0))], tuned)
    assert decision.verdict is Verdict.ACCEPTED and decision.policy_version == "v2"
    assert tuned.device.spo2_jump.source.note.startswith("Set by Dr Reyes: Probes")
    assert [c.where for c in describe_changes(POLICY, tuned)] == ["device.spo2_jump"]
    with pytest.raises(InvalidOverride):
        apply_overrides(POLICY, {"device": {"spo2_jump": 1}}, version="v3", set_by="x", reason="y")
