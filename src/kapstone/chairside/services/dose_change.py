"""A dose far from the plan's: the prescriber's decision."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.chairside import facts
from kapstone.chairside.models import ChairsideRecord, DoseChangeDecision
from kapstone.chairside.services._common import (
    _audit_chart,
    _charting,
    _text_problems,
    _unsigned,
)
from kapstone.clinical import plausibility as limits
from kapstone.clinical.access import Permission, role_may


def dose_change_decision(record: ChairsideRecord, dose_mg: Decimal) -> DoseChangeDecision | None:
    """The newest prescriber's decision on this record to give exactly ``dose_mg``."""
    return (
        record.dose_change_decisions.filter(dose_mg=dose_mg).order_by("-decided_at", "-pk").first()
    )


def decide_dose_change(
    *,
    by: StaffUser,
    record: ChairsideRecord,
    dose_mg: Decimal | None,
    rationale: str,
    now: dt.datetime | None = None,
) -> DoseChangeDecision:
    """The prescriber decides a dose more than the policy fraction away from the signed plan's;
    the nurse may then chart exactly that dose. The ceiling still applies: no decision lifts it."""
    now = now or timezone.now()
    errors = _unsigned(record)
    if not role_may(by.staff_role, Permission.DECIDE_TO_PROCEED):
        errors[""] = ["Only a prescriber or the medical director decides a change of dose."]
    planned = facts.planned_dose(record)
    route = record.route_value
    if planned is None:
        errors.setdefault("", []).append(
            "This session has no dose on a signed plan, so there is no planned dose to change."
        )
    if dose_mg is None or dose_mg <= 0:
        errors["dose_mg"] = ["Give the dose in mg."]
    elif (problem := limits.dose_range(route).problem(dose_mg)) is not None:
        errors["dose_mg"] = [
            f"{problem} The ceiling is {limits.dose_ceiling(route).source.cite()}."
        ]
    elif planned is not None and not limits.needs_prescriber_decision(
        planned_mg=planned.dose_mg, given_mg=dose_mg
    ):
        errors["dose_mg"] = [
            f"{dose_mg} mg is within {limits.DOSE_CHANGE_FRACTION.value:.0%} of the plan's "
            f"{planned.dose_mg} mg: the nurse's reason suffices, no decision is needed."
        ]
    if not rationale.strip():
        errors["rationale"] = ["Document why this dose is to be given instead of the plan's."]
    errors |= _text_problems(rationale=rationale)
    with _charting(record, errors) as locked:
        assert planned is not None and dose_mg is not None
        decision = DoseChangeDecision.objects.create(
            record=locked,
            prescriber=by,
            planned_dose_mg=planned.dose_mg,
            dose_mg=dose_mg,
            rationale=rationale.strip(),
            decided_at=now,
        )
        _audit_chart(
            by=by,
            record=locked,
            action="chairside.dose_change_decided",
            obj=decision,
            summary=f"Decision to give {dose_mg} mg instead of the plan's {planned.dose_mg} mg: "
            f"{decision.rationale}"[:300],
            after={
                "planned_dose_mg": planned.dose_mg,
                "dose_mg": dose_mg,
                "rationale": decision.rationale,
                "fraction": limits.DOSE_CHANGE_FRACTION.value,
            },
        )
    return decision
