"""The safety pathway's decisions: which results alert, which hold dosing, when an alert escalates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapstone.clinical.instruments import INSTRUMENTS, score
from kapstone.clinical.suicide_risk import (
    DEFAULT_SAFETY_POLICY,
    SafetyPolicy,
    assess_result,
    needs_escalation,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def decide(instrument, answers, policy=DEFAULT_SAFETY_POLICY):
    result = score(instrument, answers)
    return assess_result(
        instrument=instrument,
        title=INSTRUMENTS[instrument].title,
        severity=result.severity,
        flags=[str(f) for f in result.flags],
        policy=policy,
    )


def test_phq9_item_9_alerts_without_holding_dosing():
    decision = decide("phq9", {**{str(i): 0 for i in range(1, 9)}, "9": 1, "10": 0})
    assert decision.raise_alert and not decision.hold_dosing
    assert decision.sources[0].key == "§4.1"
    assert decision.policy_version == DEFAULT_SAFETY_POLICY.version


@pytest.mark.parametrize(
    ("answers", "alert", "hold"),
    [
        ({"1": False, "2": False, "6": False}, False, False),
        ({"1": True, "2": False, "6": False}, True, False),
        ({"1": True, "2": True, "3": False, "4": True, "5": False, "6": False}, True, True),
        ({"1": False, "2": False, "6": True, "6b": True}, True, True),
        ({"1": False, "2": False, "6": True, "6b": False}, True, False),
    ],
)
def test_c_ssrs_alerts_on_any_risk_and_holds_on_high(answers, alert, hold):
    decision = decide("cssrs_screen", answers)
    assert (decision.raise_alert, decision.hold_dosing) == (alert, hold)
    if hold:
        assert any(s.key == "CSSRS-TRIAGE" for s in decision.sources)


def test_a_clinic_may_hold_dosing_on_moderate_risk_too():
    policy = SafetyPolicy(version="clinic-7", hold_dosing_on=frozenset({"moderate", "high"}))
    decision = decide("cssrs_screen", {"1": False, "2": False, "6": True, "6b": False}, policy)
    assert decision.hold_dosing and decision.policy_version == "clinic-7"


@given(
    minutes=st.integers(min_value=1, max_value=24 * 60),
    waited=st.integers(min_value=0, max_value=3 * 24 * 60),
    acknowledged=st.booleans(),
    escalated=st.booleans(),
)
def test_escalation_is_due_exactly_when_an_open_alert_has_waited_its_time(
    minutes, waited, acknowledged, escalated
):
    policy = SafetyPolicy(escalate_after=timedelta(minutes=minutes))
    due = needs_escalation(
        raised_at=T0,
        acknowledged=acknowledged,
        escalated=escalated,
        now=T0 + timedelta(minutes=waited),
        policy=policy,
    )
    assert due == (not acknowledged and not escalated and waited >= minutes)


def test_policy_refuses_a_zero_wait_and_naive_times():
    with pytest.raises(ValueError, match="positive"):
        SafetyPolicy(escalate_after=timedelta(0))
    with pytest.raises(ValueError, match="time zone"):
        needs_escalation(
            raised_at=T0.replace(tzinfo=None), acknowledged=False, escalated=False, now=T0
        )
