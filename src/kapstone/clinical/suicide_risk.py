"""The suicide-risk safety pathway: when a result raises an alert, holds dosing, and escalates.

A ``suicide_risk`` flag from any instrument (PHQ-9 item 9, QIDS-SR16 item 12, any C-SSRS risk, the
MADRS item-10 rule when a clinic sets one) raises an alert to the patient's prescriber and therapist.
A high C-SSRS result also holds further dosing until a prescriber documents a review: the C-SSRS
triage guidance asks for safety precautions until a professional evaluates the patient. How long an
alert may stay unacknowledged before the medical director is told is clinic policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from kapstone.clinical.provenance import Evidence, Source, Verification

DEFAULT_POLICY_VERSION = "default-2026-11"

SUICIDE_RISK_FLAG = "suicide_risk"
CSSRS = "cssrs_screen"
HIGH_RISK = "high"

ALERT_SOURCE = Source(
    "§4.1",
    Verification.VERIFIED,
    Evidence.INSTRUMENT_MANUAL,
    "item 9 >= 1 -> immediate clinician alert + C-SSRS screener; the workflow is a design decision",
)
HOLD_SOURCE = Source(
    "CSSRS-TRIAGE",
    Verification.VERIFIED,
    Evidence.GUIDELINE,
    "high-risk answers require safety precautions until a mental health professional evaluates; "
    "rule C20: level-of-care review before an outpatient or retreat session",
)
ESCALATION_SOURCE = Source(
    "§4.1",
    Verification.UNVERIFIED,
    Evidence.CLINIC_POLICY,
    "no source sets how long an alert may wait; the medical director sets it",
)


class AlertAction(StrEnum):
    """What a clinician did about an alert: the issue's three actions, and a call or referral."""

    SAFETY_PLAN = "safety_plan"
    CSSRS_FOLLOW_UP = "cssrs_follow_up"
    LEVEL_OF_CARE_REVIEW = "level_of_care_review"
    CONTACTED_PATIENT = "contacted_patient"
    EMERGENCY_REFERRAL = "emergency_referral"

    @property
    def label(self) -> str:
        return _ACTION_LABELS[self]


_ACTION_LABELS = {
    AlertAction.SAFETY_PLAN: "Safety plan made or reviewed with the patient",
    AlertAction.CSSRS_FOLLOW_UP: "C-SSRS follow-up completed",
    AlertAction.LEVEL_OF_CARE_REVIEW: "Level-of-care review",
    AlertAction.CONTACTED_PATIENT: "Patient contacted",
    AlertAction.EMERGENCY_REFERRAL: "Emergency services or crisis team involved",
}


@dataclass(frozen=True, slots=True)
class SafetyPolicy:
    version: str = DEFAULT_POLICY_VERSION
    escalate_after: timedelta = timedelta(minutes=60)
    # C-SSRS risk levels that hold dosing; the triage guidance names "high".
    hold_dosing_on: frozenset[str] = frozenset({HIGH_RISK})
    escalation_source: Source = ESCALATION_SOURCE
    hold_source: Source = HOLD_SOURCE

    def __post_init__(self) -> None:
        if self.escalate_after <= timedelta(0):
            raise ValueError("escalate_after must be a positive time")
        if not self.version:
            raise ValueError("a policy needs a version")


DEFAULT_SAFETY_POLICY = SafetyPolicy()


@dataclass(frozen=True, slots=True)
class RiskDecision:
    raise_alert: bool
    hold_dosing: bool
    reason: str
    policy_version: str
    sources: tuple[Source, ...]


def assess_result(
    *,
    instrument: str,
    title: str,
    severity: str | None,
    flags: Sequence[str],
    policy: SafetyPolicy = DEFAULT_SAFETY_POLICY,
) -> RiskDecision:
    """What the safety pathway does with one scored result."""
    alert = SUICIDE_RISK_FLAG in flags
    hold = alert and instrument == CSSRS and severity in policy.hold_dosing_on
    shown = severity.replace("_", " ") if severity else ""
    if not alert:
        reason = f"{title}: no suicide-risk flag"
    elif hold:
        reason = f"{title}: {shown} risk; dosing is held until a prescriber reviews"
    else:
        reason = f"{title}{f' ({shown})' if shown else ''} raised the suicide-risk flag"
    sources: tuple[Source, ...] = (ALERT_SOURCE,) if alert else ()
    if hold:
        sources += (policy.hold_source,)
    return RiskDecision(alert, hold, reason, policy.version, sources)


def escalation_due_at(
    raised_at: datetime, policy: SafetyPolicy = DEFAULT_SAFETY_POLICY
) -> datetime:
    return raised_at + policy.escalate_after


def needs_escalation(
    *,
    raised_at: datetime,
    acknowledged: bool,
    escalated: bool,
    now: datetime,
    policy: SafetyPolicy = DEFAULT_SAFETY_POLICY,
) -> bool:
    """An open alert is escalated once, when it has waited the policy's time."""
    if raised_at.tzinfo is None or now.tzinfo is None:
        raise ValueError("times must carry their time zone")
    return not acknowledged and not escalated and now >= escalation_due_at(raised_at, policy)
