"""Who may sign a treatment plan, given the patient's signed eligibility decision.

A plan rests on a signed eligibility review: eligible (with or without precautions) lets a
prescriber or the medical director sign; a specialist protocol (for example bipolar disorder) is
signed by the medical director only; not eligible and urgent safety review cannot be signed at all.
"""

from __future__ import annotations

from kapstone.clinical.access import Role
from kapstone.clinical.eligibility import Decision

SIGNERS: dict[Decision, frozenset[Role]] = {
    Decision.ELIGIBLE: frozenset({Role.PRESCRIBER, Role.MEDICAL_DIRECTOR}),
    Decision.ELIGIBLE_WITH_PRECAUTIONS: frozenset({Role.PRESCRIBER, Role.MEDICAL_DIRECTOR}),
    Decision.SPECIALIST_PROTOCOL: frozenset({Role.MEDICAL_DIRECTOR}),
    Decision.NOT_ELIGIBLE: frozenset(),
    Decision.URGENT_SAFETY_REVIEW: frozenset(),
}


def signing_refusal(decision: str | None, role: Role) -> str | None:
    """Why ``role`` may not sign a plan resting on ``decision`` (None: it may)."""
    if role not in (Role.PRESCRIBER, Role.MEDICAL_DIRECTOR):
        return (
            "A treatment plan is signed by a prescriber or the medical director, not a "
            f"{role.label.lower()}."
        )
    if decision is None:
        return (
            "The plan cannot be signed before the patient's eligibility decision is signed: "
            "complete the intake and sign the eligibility review first."
        )
    found = Decision(decision)
    if found is Decision.NOT_ELIGIBLE:
        return (
            "The signed eligibility decision is Not eligible: no treatment plan can be signed. "
            "If the facts change, a new eligibility review is needed first."
        )
    if found is Decision.URGENT_SAFETY_REVIEW:
        return (
            "The signed eligibility decision is Urgent safety review: the safety review comes "
            "first and no treatment plan can be signed."
        )
    if role not in SIGNERS[found]:
        return (
            "The signed eligibility decision is Specialist protocol: the medical director signs "
            "this plan, not a prescriber."
        )
    return None
