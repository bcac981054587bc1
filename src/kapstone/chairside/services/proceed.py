"""The prescriber's decision to dose despite a raised pre-dose blood pressure."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.chairside import facts
from kapstone.chairside.models import ChairsideRecord, ProceedDecision
from kapstone.chairside.services._common import (
    _audit_chart,
    _charting,
    _text_problems,
    _unsigned,
)
from kapstone.clinical.access import Permission, role_may
from kapstone.clinical.alerts import PreDoseOutcome


def decide_to_proceed(
    *, by: StaffUser, record: ChairsideRecord, rationale: str, now: dt.datetime | None = None
) -> ProceedDecision:
    """The prescriber documents dosing despite a pre-dose BP above the policy guide."""
    now = now or timezone.now()
    errors = _unsigned(record)
    if not role_may(by.staff_role, Permission.DECIDE_TO_PROCEED):
        errors[""] = ["Only a prescriber or the medical director decides to proceed."]
    if not rationale.strip():
        errors["rationale"] = ["Document why dosing may proceed (the risk weighed)."]
    errors |= _text_problems(rationale=rationale)
    baseline = facts.baseline_reading(record)
    if baseline is None:
        errors.setdefault("", []).append("There is no pre-dose reading to decide on.")
    else:
        check, _ = facts.blood_pressure_check(record, baseline)
        if check is not None and not check.elevated:
            errors.setdefault("", []).append(
                "The pre-dose blood pressure is within the guide: no decision is needed."
            )
    with _charting(record, errors) as locked:
        assert baseline is not None
        decision = ProceedDecision.objects.create(
            record=locked,
            reading=baseline,
            prescriber=by,
            rationale=rationale.strip(),
            decided_at=now,
        )
        check, _ = facts.blood_pressure_check(locked, baseline)
        assert check is not None and check.outcome is PreDoseOutcome.PROCEED
        _audit_chart(
            by=by,
            record=locked,
            action="chairside.proceed_decided",
            obj=decision,
            summary=f"Decision to proceed despite pre-dose BP {baseline.systolic}/"
            f"{baseline.diastolic}: {decision.rationale}"[:300],
            after={
                "reading": baseline.pk,
                "rationale": decision.rationale,
                "reasons": list(check.reasons),
                "severe": check.severe,
                "policy_version": check.policy_version,
            },
        )
    return decision
