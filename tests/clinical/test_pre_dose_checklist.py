"""The pre-dose checklist: each item passes, warns or blocks as the clinic's policy says, suicide
risk comes first, and a worse fact never lowers an item's outcome."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapstone.clinical.alerts import pre_dose_blood_pressure_check
from kapstone.clinical.monitoring_policy import DEFAULT_MONITORING_POLICY, Sourced
from kapstone.clinical.pre_dose_checklist import (
    DEFAULT_CHECKLIST_POLICY,
    ChecklistItem,
    ItemOutcome,
    PreDoseFacts,
    PregnancyStatus,
    assess_pre_dose,
)
from kapstone.clinical.vital_signs import VitalSign

TODAY = date(2026, 11, 3)
WHEN = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
POLICY = DEFAULT_CHECKLIST_POLICY


def bp(sys: int, dia: int):  # type: ignore[no-untyped-def]
    return pre_dose_blood_pressure_check(
        VitalSign(WHEN, sys, dia, 72, 98, 14), policy=DEFAULT_MONITORING_POLICY, age_years=40
    )


READY = PreDoseFacts(
    today=TODAY,
    identity_confirmed=True,
    open_suicide_risk_alerts=0,
    dosing_hold=False,
    consent_on_file=True,
    eligibility_decision="eligible",
    eligibility_signed_on=date(2026, 10, 1),
    fasting_confirmed=True,
    escort_confirmed=True,
    sex_at_birth="female",
    age_years=40,
    pregnancy_status=PregnancyStatus.NOT_PREGNANT,
    open_questionnaires=0,
    weight_kg=Decimal("70"),
    plan_weight_kg=Decimal("70"),
    dose_is_weight_based=True,
    baseline_taken=True,
    blood_pressure=bp(124, 78),
)


def outcome(facts: PreDoseFacts, item: ChecklistItem) -> ItemOutcome:
    return assess_pre_dose(facts, policy=POLICY).result(item).outcome


def test_everything_in_order_passes_and_suicide_risk_is_listed_first() -> None:
    a = assess_pre_dose(READY, policy=POLICY)
    assert a.may_dose and not a.warnings
    assert [r.item for r in a.items] == list(ChecklistItem)
    assert a.items[0].item is ChecklistItem.SUICIDE_RISK
    assert a.policy_version == POLICY.version


CASES = [
    ("open alert", {"open_suicide_risk_alerts": 1}, ChecklistItem.SUICIDE_RISK, "block"),
    ("dosing hold", {"dosing_hold": True}, ChecklistItem.SUICIDE_RISK, "block"),
    ("identity", {"identity_confirmed": False}, ChecklistItem.IDENTITY, "block"),
    ("consent", {"consent_on_file": False}, ChecklistItem.CONSENT, "block"),
    ("no eligibility", {"eligibility_decision": None}, ChecklistItem.ELIGIBILITY, "block"),
    (
        "ruled out",
        {"eligibility_decision": "not_eligible"},
        ChecklistItem.ELIGIBILITY,
        "block",
    ),
    (
        "stale eligibility",
        {"eligibility_signed_on": date(2025, 10, 1)},
        ChecklistItem.ELIGIBILITY,
        "warn",
    ),
    ("not fasted", {"fasting_confirmed": False}, ChecklistItem.FASTING, "warn"),
    ("no escort", {"escort_confirmed": False}, ChecklistItem.ESCORT, "block"),
    ("pregnant", {"pregnancy_status": PregnancyStatus.PREGNANT}, ChecklistItem.PREGNANCY, "block"),
    ("pregnancy unknown", {"pregnancy_status": None}, ChecklistItem.PREGNANCY, "warn"),
    ("questionnaires", {"open_questionnaires": 2}, ChecklistItem.QUESTIONNAIRES, "warn"),
    ("no weight, mg/kg", {"weight_kg": None}, ChecklistItem.WEIGHT, "block"),
    (
        "no weight, fixed dose",
        {"weight_kg": None, "dose_is_weight_based": False},
        ChecklistItem.WEIGHT,
        "warn",
    ),
    ("weight changed", {"weight_kg": Decimal("78")}, ChecklistItem.WEIGHT, "warn"),
    ("no baseline", {"baseline_taken": False}, ChecklistItem.BASELINE_VITALS, "block"),
    ("raised BP", {"blood_pressure": bp(141, 80)}, ChecklistItem.BASELINE_VITALS, "block"),
]


@pytest.mark.parametrize(
    ("change", "item", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_item_fails_on_its_own(change: dict, item: ChecklistItem, expected: str) -> None:
    a = assess_pre_dose(replace(READY, **change), policy=POLICY)
    assert {r.item for r in a.items if r.outcome is not ItemOutcome.PASS} == {item}
    result = a.result(item)
    assert result.outcome.value == expected and result.source.key
    assert a.may_dose is (expected == "warn")


def test_boundaries_that_do_not_fail() -> None:
    at_the_guide = replace(READY, blood_pressure=bp(140, 90))  # above means strictly greater
    assert outcome(at_the_guide, ChecklistItem.BASELINE_VITALS) is ItemOutcome.PASS
    just_current = replace(READY, eligibility_signed_on=date(2025, 11, 3))  # 365 days
    assert outcome(just_current, ChecklistItem.ELIGIBILITY) is ItemOutcome.PASS
    small_change = replace(READY, weight_kg=Decimal("76.9"))  # 9.9 %
    assert outcome(small_change, ChecklistItem.WEIGHT) is ItemOutcome.PASS
    for sex, age in (("male", 30), ("female", 60), ("female", 11)):
        unasked = replace(READY, sex_at_birth=sex, age_years=age, pregnancy_status=None)
        assert outcome(unasked, ChecklistItem.PREGNANCY) is ItemOutcome.PASS


def test_the_prescribers_decision_lets_a_raised_bp_pass() -> None:
    from kapstone.clinical.alerts import PrescriberDecisionToProceed

    decided = pre_dose_blood_pressure_check(
        VitalSign(WHEN, 152, 94, 72, 98, 14),
        policy=DEFAULT_MONITORING_POLICY,
        prescriber_decision=PrescriberDecisionToProceed("Dr Reyes", WHEN, "White-coat; proceed"),
    )
    result = assess_pre_dose(replace(READY, blood_pressure=decided), policy=POLICY).result(
        ChecklistItem.BASELINE_VITALS
    )
    assert result.outcome is ItemOutcome.PASS and "White-coat" in result.message


def test_block_or_warn_is_the_clinics_policy() -> None:
    strict = replace(
        POLICY,
        version="strict-1",
        fasting_unconfirmed=Sourced(ItemOutcome.BLOCK, POLICY.fasting_unconfirmed.source),
    )
    a = assess_pre_dose(replace(READY, fasting_confirmed=False), policy=strict)
    assert not a.may_dose and a.policy_version == "strict-1"


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 3),
    st.integers(0, 3),
    st.integers(0, 3),
    st.integers(0, 3),
    st.integers(100, 200),
    st.integers(60, 120),
    st.integers(0, 30),
    st.integers(0, 30),
)
def test_a_worse_fact_never_lowers_an_outcome(
    alerts: int,
    more_alerts: int,
    questionnaires: int,
    more_questionnaires: int,
    sys: int,
    dia: int,
    rise: int,
    weight_drift: int,
) -> None:
    base = replace(
        READY,
        open_suicide_risk_alerts=alerts,
        open_questionnaires=questionnaires,
        blood_pressure=bp(sys, min(dia, sys - 1)),
        weight_kg=Decimal(70 + weight_drift // 2),
    )
    worse = replace(
        base,
        open_suicide_risk_alerts=alerts + more_alerts,
        open_questionnaires=questionnaires + more_questionnaires,
        blood_pressure=bp(sys + rise, min(dia + rise, sys + rise - 1)),
        weight_kg=Decimal(70 + weight_drift),
    )
    before = assess_pre_dose(base, policy=POLICY)
    after = assess_pre_dose(worse, policy=POLICY)
    for b, w in zip(before.items, after.items, strict=True):
        assert w.outcome.rank >= b.outcome.rank, (b, w)
    assert not (after.may_dose and not before.may_dose)
