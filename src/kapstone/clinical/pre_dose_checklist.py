"""The pre-dose checklist at the chair side: each item passes, warns or blocks dosing, as the
clinic's policy says, with its Source.

The shell gathers the facts (the nurse's confirmations, the signed plan and eligibility, open
suicide-risk alerts, today's weight, the baseline reading and the core's pre-dose blood-pressure
check) and this module grades them. Whether a failed item blocks or only warns is policy data
(``ChecklistPolicy``), so the medical director can change it and every result records the version.
A block means the nurse may not record a dose until the item passes; a warning is shown and kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from kapstone.clinical.alerts import PreDoseBloodPressureCheck, PreDoseOutcome
from kapstone.clinical.monitoring_policy import Sourced, clinic_policy
from kapstone.clinical.pregnancy import PregnancyStatus
from kapstone.clinical.provenance import Evidence, Source, Verification

DEFAULT_CHECKLIST_POLICY_VERSION = "default-2026-11"


class ItemOutcome(StrEnum):
    PASS = "pass"  # noqa: S105 (an outcome, not a password)
    WARN = "warn"
    BLOCK = "block"

    @property
    def rank(self) -> int:
        return (ItemOutcome.PASS, ItemOutcome.WARN, ItemOutcome.BLOCK).index(self)


class ChecklistItem(StrEnum):
    """In the order the console shows them: suicide risk first (issue 5)."""

    SUICIDE_RISK = "suicide_risk"
    IDENTITY = "identity"
    CONSENT = "consent"
    ELIGIBILITY = "eligibility"
    FASTING = "fasting"
    ESCORT = "escort"
    PREGNANCY = "pregnancy"
    QUESTIONNAIRES = "questionnaires"
    WEIGHT = "weight"
    BASELINE_VITALS = "baseline_vitals"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    ChecklistItem.SUICIDE_RISK: "No open suicide-risk alert or dosing hold",
    ChecklistItem.IDENTITY: "Identity confirmed (two identifiers)",
    ChecklistItem.CONSENT: "Informed consent on file (signed plan)",
    ChecklistItem.ELIGIBILITY: "Eligibility signed and current",
    ChecklistItem.FASTING: "Fasting as advised",
    ChecklistItem.ESCORT: "Escort and ride home arranged",
    ChecklistItem.PREGNANCY: "Pregnancy status",
    ChecklistItem.QUESTIONNAIRES: "Today's questionnaires done",
    ChecklistItem.WEIGHT: "Current weight",
    ChecklistItem.BASELINE_VITALS: "Baseline vital signs (pre-dose blood pressure)",
}


# Eligibility decisions (kapstone.clinical.eligibility.Decision values) under which dosing may go on.
DOSING_DECISIONS = frozenset({"eligible", "eligible_with_precautions", "specialist_protocol"})


@dataclass(frozen=True, slots=True)
class PreDoseFacts:
    today: date
    identity_confirmed: bool
    open_suicide_risk_alerts: int
    dosing_hold: bool
    consent_on_file: bool  # a signed plan with informed consent recorded
    eligibility_decision: str | None  # the signed decision, None when not (fully) signed
    eligibility_signed_on: date | None
    fasting_confirmed: bool
    escort_confirmed: bool
    sex_at_birth: str  # patients.SexAtBirth value
    age_years: int
    pregnancy_status: PregnancyStatus | None  # None: not asked
    open_questionnaires: int  # sets sent for today that the patient has not submitted
    weight_kg: Decimal | None  # today's weight, as weighed or reported at the chair side
    plan_weight_kg: Decimal | None  # the weight the plan's dose was calculated on
    dose_is_weight_based: bool
    baseline_taken: bool
    blood_pressure: PreDoseBloodPressureCheck | None  # the core check on the baseline reading


@dataclass(frozen=True, slots=True)
class ItemResult:
    item: ChecklistItem
    outcome: ItemOutcome
    message: str
    source: Source


@dataclass(frozen=True, slots=True)
class PreDoseAssessment:
    items: tuple[ItemResult, ...]  # in ChecklistItem order
    policy_version: str

    @property
    def may_dose(self) -> bool:
        return not self.blocking

    @property
    def blocking(self) -> tuple[ItemResult, ...]:
        return tuple(i for i in self.items if i.outcome is ItemOutcome.BLOCK)

    @property
    def warnings(self) -> tuple[ItemResult, ...]:
        return tuple(i for i in self.items if i.outcome is ItemOutcome.WARN)

    def result(self, item: ChecklistItem) -> ItemResult:
        return next(i for i in self.items if i.item is item)


_B, _W = ItemOutcome.BLOCK, ItemOutcome.WARN
_PREGNANCY = Source(
    "§2.1",
    Verification.UNVERIFIED,
    Evidence.CLINIC_POLICY,
    "Embryo-fetal toxicity (SPRAVATO-US, VERIFIED); requiring the status, the age band and the "
    "grades are clinic policy.",
)


@dataclass(frozen=True, slots=True)
class ChecklistPolicy:
    """What each failed item does: block dosing or warn. Every choice is sourced."""

    version: str = DEFAULT_CHECKLIST_POLICY_VERSION
    suicide_risk_open: Sourced[ItemOutcome] = field(
        default=Sourced(
            _B,
            clinic_policy(
                "§2.3", "An open suicide-risk alert or dosing hold is assessed before any dose."
            ),
        )
    )
    identity_unconfirmed: Sourced[ItemOutcome] = field(
        default=Sourced(
            _B, clinic_policy("§2.1", "Two-identifier check before a controlled drug is given.")
        )
    )
    consent_missing: Sourced[ItemOutcome] = field(
        default=Sourced(
            _B, clinic_policy("§1.6", "No dose without informed consent recorded on a signed plan.")
        )
    )
    eligibility_missing: Sourced[ItemOutcome] = field(
        default=Sourced(
            _B,
            clinic_policy("§1.6", "No dose without a signed eligibility decision that allows it."),
        )
    )
    eligibility_stale: Sourced[ItemOutcome] = field(
        default=Sourced(
            _W, clinic_policy("§1.6", "An eligibility review older than the limit is re-screened.")
        )
    )
    eligibility_max_age_days: Sourced[int] = field(
        default=Sourced(
            365, clinic_policy("§1.6", "Eligibility counts as current for a year; UNVERIFIED.")
        )
    )
    fasting_unconfirmed: Sourced[ItemOutcome] = field(
        default=Sourced(
            _W,
            Source(
                "§2.1",
                Verification.UNVERIFIED,
                Evidence.CLINIC_POLICY,
                "No food 2 h before (VERIFIED summary), liquids 30 min (UNVERIFIED); warning, not "
                "block, is policy: nausea risk, not a contraindication.",
            ),
        )
    )
    escort_unconfirmed: Sourced[ItemOutcome] = field(
        default=Sourced(
            _B,
            Source(
                "§11.1",
                Verification.VERIFIED,
                Evidence.LABEL,
                "No driving until the next day after restful sleep; example REMS SOP: confirm a ride "
                "home, otherwise reschedule.",
            ),
        )
    )
    pregnancy_ages: Sourced[tuple[int, int]] = field(default=Sourced((12, 55), _PREGNANCY))
    # 'unknown' and 'intersex' are asked too: reproductive potential is not ruled out.
    pregnancy_sexes: Sourced[frozenset[str]] = field(
        default=Sourced(frozenset({"female", "intersex", "unknown"}), _PREGNANCY)
    )
    pregnant: Sourced[ItemOutcome] = field(default=Sourced(_B, _PREGNANCY))
    pregnancy_unknown: Sourced[ItemOutcome] = field(default=Sourced(_W, _PREGNANCY))
    questionnaires_open: Sourced[ItemOutcome] = field(
        default=Sourced(
            _W,
            clinic_policy(
                "§2.1", "Baseline questionnaires before each session: measurement-based care."
            ),
        )
    )
    weight_missing_weight_based: Sourced[ItemOutcome] = field(
        default=Sourced(_B, clinic_policy("§3", "A mg/kg dose needs a current weight."))
    )
    weight_missing_fixed: Sourced[ItemOutcome] = field(
        default=Sourced(
            _W,
            clinic_policy("§3", "A fixed dose does not depend on weight; recorded for the chart."),
        )
    )
    weight_change_percent: Sourced[Decimal] = field(
        default=Sourced(
            Decimal(10),
            clinic_policy(
                "§3", "A weight this far from the plan's asks the prescriber to recheck."
            ),
        )
    )
    weight_changed: Sourced[ItemOutcome] = field(
        default=Sourced(
            _W,
            clinic_policy("§3", "The prescriber may recalculate; the nurse doses as prescribed."),
        )
    )
    baseline_missing: Sourced[ItemOutcome] = field(
        default=Sourced(
            _B,
            Source(
                "§2.1", Verification.VERIFIED, Evidence.LABEL, "BP before each dose is mandatory."
            ),
        )
    )
    blood_pressure_needs_decision: Sourced[ItemOutcome] = field(
        default=Sourced(
            _B,
            Source(
                "§2.1",
                Verification.VERIFIED,
                Evidence.LABEL,
                "Above the general guide (>140/90) the prescriber documents the decision to proceed.",
            ),
        )
    )

    def pregnancy_applies(self, sex_at_birth: str, age_years: int) -> bool:
        low, high = self.pregnancy_ages.value
        return sex_at_birth in self.pregnancy_sexes.value and low <= age_years <= high


DEFAULT_CHECKLIST_POLICY = ChecklistPolicy()
_PASS_SOURCE = clinic_policy("§2.1", "Item passed.")


def assess_pre_dose(facts: PreDoseFacts, *, policy: ChecklistPolicy) -> PreDoseAssessment:
    """Every item's outcome, in the console's order; ``may_dose`` when none blocks."""
    items: list[ItemResult] = []

    def add(item: ChecklistItem, fails: Sourced[ItemOutcome] | None, message: str) -> None:
        if fails is None:
            items.append(ItemResult(item, ItemOutcome.PASS, message, _PASS_SOURCE))
        else:
            items.append(ItemResult(item, fails.value, message, fails.source))

    if facts.open_suicide_risk_alerts or facts.dosing_hold:
        parts = []
        if facts.open_suicide_risk_alerts:
            parts.append(f"{facts.open_suicide_risk_alerts} open suicide-risk alert(s)")
        if facts.dosing_hold:
            parts.append("a dosing hold awaiting the prescriber's review")
        add(
            ChecklistItem.SUICIDE_RISK,
            policy.suicide_risk_open,
            f"{' and '.join(parts).capitalize()}: assess before dosing.",
        )
    else:
        add(ChecklistItem.SUICIDE_RISK, None, "No open suicide-risk alert or dosing hold.")

    add(
        ChecklistItem.IDENTITY,
        None if facts.identity_confirmed else policy.identity_unconfirmed,
        "Identity confirmed."
        if facts.identity_confirmed
        else "Confirm the patient's identity (name and date of birth).",
    )
    add(
        ChecklistItem.CONSENT,
        None if facts.consent_on_file else policy.consent_missing,
        "Informed consent is on the signed plan."
        if facts.consent_on_file
        else "No signed plan with informed consent recorded.",
    )
    _eligibility(facts, policy, add)
    add(
        ChecklistItem.FASTING,
        None if facts.fasting_confirmed else policy.fasting_unconfirmed,
        "Fasting confirmed."
        if facts.fasting_confirmed
        else "Patient has not fasted as advised (nausea and vomiting risk).",
    )
    add(
        ChecklistItem.ESCORT,
        None if facts.escort_confirmed else policy.escort_unconfirmed,
        "Escort and ride home confirmed."
        if facts.escort_confirmed
        else "No confirmed escort and ride home: the patient must not drive today.",
    )
    _pregnancy(facts, policy, add)
    add(
        ChecklistItem.QUESTIONNAIRES,
        policy.questionnaires_open if facts.open_questionnaires else None,
        f"{facts.open_questionnaires} questionnaire set(s) sent and not yet completed."
        if facts.open_questionnaires
        else "No questionnaire set waiting.",
    )
    _weight(facts, policy, add)
    _baseline(facts, policy, add)
    return PreDoseAssessment(items=tuple(items), policy_version=policy.version)


def _eligibility(facts: PreDoseFacts, policy: ChecklistPolicy, add) -> None:  # type: ignore[no-untyped-def]
    decision, signed_on = facts.eligibility_decision, facts.eligibility_signed_on
    if decision is None or signed_on is None:
        add(
            ChecklistItem.ELIGIBILITY, policy.eligibility_missing, "No signed eligibility decision."
        )
        return
    if decision not in DOSING_DECISIONS:
        add(
            ChecklistItem.ELIGIBILITY,
            policy.eligibility_missing,
            f"The signed eligibility decision ({decision.replace('_', ' ')}) does not allow dosing.",
        )
        return
    age = (facts.today - signed_on).days
    limit = policy.eligibility_max_age_days.value
    if age > limit:
        add(
            ChecklistItem.ELIGIBILITY,
            policy.eligibility_stale,
            f"Eligibility was signed {age} days ago (current for {limit} days): re-screen.",
        )
        return
    add(ChecklistItem.ELIGIBILITY, None, f"Eligibility signed {signed_on.isoformat()}.")


def _pregnancy(facts: PreDoseFacts, policy: ChecklistPolicy, add) -> None:  # type: ignore[no-untyped-def]
    if not policy.pregnancy_applies(facts.sex_at_birth, facts.age_years):
        add(ChecklistItem.PREGNANCY, None, "Does not apply.")
        return
    status = facts.pregnancy_status
    if status is PregnancyStatus.PREGNANT:
        add(ChecklistItem.PREGNANCY, policy.pregnant, "Patient is pregnant: prescriber to review.")
    elif status is PregnancyStatus.NOT_PREGNANT:
        add(ChecklistItem.PREGNANCY, None, "Not pregnant.")
    else:
        add(
            ChecklistItem.PREGNANCY,
            policy.pregnancy_unknown,
            "Pregnancy status not known (ask; test if clinic policy requires it).",
        )


def _weight(facts: PreDoseFacts, policy: ChecklistPolicy, add) -> None:  # type: ignore[no-untyped-def]
    weight = facts.weight_kg
    if weight is None:
        fails = (
            policy.weight_missing_weight_based
            if facts.dose_is_weight_based
            else policy.weight_missing_fixed
        )
        add(ChecklistItem.WEIGHT, fails, "No weight recorded today.")
        return
    planned = facts.plan_weight_kg
    if planned is not None and planned > 0:
        change = abs(weight - planned) * 100 / planned
        limit = policy.weight_change_percent.value
        if change >= limit:
            add(
                ChecklistItem.WEIGHT,
                policy.weight_changed,
                f"{weight} kg today; the dose was calculated on {planned} kg "
                f"({change:.0f} % apart, recheck at {limit} %).",
            )
            return
    add(ChecklistItem.WEIGHT, None, f"{weight} kg today.")


def _baseline(facts: PreDoseFacts, policy: ChecklistPolicy, add) -> None:  # type: ignore[no-untyped-def]
    if not facts.baseline_taken or facts.blood_pressure is None:
        add(ChecklistItem.BASELINE_VITALS, policy.baseline_missing, "Take baseline vital signs.")
        return
    bp = facts.blood_pressure
    if bp.outcome is PreDoseOutcome.NEEDS_PRESCRIBER_DECISION:
        add(
            ChecklistItem.BASELINE_VITALS,
            policy.blood_pressure_needs_decision,
            " ".join(bp.reasons) + " The prescriber's documented decision to proceed is needed.",
        )
        return
    add(ChecklistItem.BASELINE_VITALS, None, " ".join(bp.reasons))
