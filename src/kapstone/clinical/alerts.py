"""The chair-side alert engine: vital signs, sedation and symptoms against the clinic's rules.

Every rule is data in ``MonitoringPolicy`` with an id and a Source; ``evaluate`` reports every
rule that fired and the highest grade. Grading is monotone by construction: each rule fires on a
one-sided comparison, so a worse value can only add rules, never remove them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from kapstone.clinical.monitoring_policy import (
    AlertGrade,
    Direction,
    InvalidMonitoringInput,
    Measure,
    MonitoringPolicy,
    Symptom,
    ThresholdRule,
)
from kapstone.clinical.problems import Problem
from kapstone.clinical.provenance import Source
from kapstone.clinical.routes import Route
from kapstone.clinical.vital_signs import SedationLevel, VitalSign

__all__ = [
    "AlertAssessment",
    "AlertGrade",
    "FiredRule",
    "PreDoseBloodPressureCheck",
    "PreDoseOutcome",
    "PrescriberDecisionToProceed",
    "Symptom",
    "evaluate",
    "highest_grade",
    "pre_dose_blood_pressure_check",
]


@dataclass(frozen=True, slots=True)
class FiredRule:
    rule_id: str
    grade: AlertGrade  # what to do now (after adjusting for whether an infusion is running)
    rule_grade: AlertGrade  # as configured in the policy
    message: str
    source: Source


@dataclass(frozen=True, slots=True)
class AlertAssessment:
    grade: AlertGrade
    fired: tuple[FiredRule, ...]  # highest grade first
    notes: tuple[str, ...]
    policy_version: str
    reading_taken_at: datetime | None

    @property
    def action(self) -> str:
        return self.grade.label


def highest_grade(grades: Iterable[AlertGrade]) -> AlertGrade:
    return max(grades, key=lambda g: g.rank, default=AlertGrade.NONE)


def evaluate(  # noqa: C901 (over the ceiling before it came in; to be split)
    reading: VitalSign | None,
    baseline: VitalSign | None,
    *,
    policy: MonitoringPolicy,
    route: Route,
    infusion_running: bool,
    symptoms: Iterable[Symptom] = (),
    sedation: SedationLevel | None = None,
) -> AlertAssessment:
    """Grade a reading and/or the symptoms seen now against the policy's rules.

    ``sedation`` is for symptoms charted without a full reading; with a reading, the deeper of the
    two counts. ``baseline`` is the pre-dose reading; without it, change-from-baseline rules cannot
    fire and a note says so.
    """
    if infusion_running and route is not Route.IV:
        raise InvalidMonitoringInput(
            [
                Problem(
                    "infusion_running",
                    f"only IV doses are infused; {route.value} cannot have an infusion running",
                )
            ]
        )
    symptom_set = frozenset(symptoms)
    depth = _deeper(reading.sedation if reading else None, sedation)
    fired: list[FiredRule] = []
    notes: list[str] = []

    def fire(rule_id: str, grade: AlertGrade, message: str, source: Source) -> None:
        effective = grade
        if grade is AlertGrade.PAUSE_OR_SLOW_INFUSION and not infusion_running:
            effective = policy.pause_without_infusion_becomes.value
            message += f" No infusion running: {effective.label.lower()}."
        fired.append(FiredRule(rule_id, effective, grade, message, source))

    if reading is not None:
        if baseline is None:
            notes.append("No pre-dose baseline: change-from-baseline rules were not evaluated.")
        for rule in policy.threshold_rules:
            value = _measure(rule.measure, reading, baseline)
            if value is not None and rule.fires(value):
                fire(
                    rule.rule_id, rule.grade, _threshold_message(rule, value, baseline), rule.source
                )
        for h in policy.hypertensive_emergency_rules:
            seen = sorted(s.value for s in h.symptoms & symptom_set)
            severe_bp = (
                reading.systolic_mmhg >= h.systolic_at_least
                or reading.diastolic_mmhg >= h.diastolic_at_least
            )
            if severe_bp and seen:
                fire(
                    h.rule_id,
                    h.grade,
                    f"BP {reading.systolic_mmhg}/{reading.diastolic_mmhg} mmHg (at or above "
                    f"{h.systolic_at_least} systolic or {h.diastolic_at_least} diastolic) with "
                    f"{', '.join(seen)}: possible hypertensive emergency.",
                    h.source,
                )
    elif not symptom_set and sedation is None:
        notes.append("Nothing to evaluate: no reading, sedation level or symptom given.")

    if depth is not None:
        for s in policy.sedation_rules:
            if depth.rank >= s.at_least.rank:
                fire(
                    s.rule_id,
                    s.grade,
                    f"Sedation '{depth.label}' is at or deeper than '{s.at_least.label}'.",
                    s.source,
                )

    for sr in policy.symptom_rules:
        if sr.symptom not in symptom_set:
            continue
        needed = sr.only_when_sedated_at_least
        if needed is not None:
            if depth is None or depth.rank < needed.rank:
                continue
            fire(
                sr.rule_id,
                sr.grade,
                f"{_symptom_text(sr.symptom)} while sedated ('{depth.label}').",
                sr.source,
            )
        else:
            fire(sr.rule_id, sr.grade, f"{_symptom_text(sr.symptom)} reported.", sr.source)

    fired.sort(key=lambda f: -f.grade.rank)
    return AlertAssessment(
        grade=highest_grade(f.grade for f in fired),
        fired=tuple(fired),
        notes=tuple(notes),
        policy_version=policy.version,
        reading_taken_at=reading.taken_at if reading else None,
    )


def _deeper(a: SedationLevel | None, b: SedationLevel | None) -> SedationLevel | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if a.rank >= b.rank else b


def _measure(measure: Measure, reading: VitalSign, baseline: VitalSign | None) -> int | None:
    match measure:
        case Measure.SYSTOLIC:
            return reading.systolic_mmhg
        case Measure.DIASTOLIC:
            return reading.diastolic_mmhg
        case Measure.HEART_RATE:
            return reading.heart_rate_bpm
        case Measure.SPO2:
            return reading.spo2_percent
        case Measure.RESPIRATORY_RATE:
            return reading.respiratory_rate_per_min
        case Measure.SYSTOLIC_RISE_FROM_BASELINE:
            return None if baseline is None else reading.systolic_mmhg - baseline.systolic_mmhg
        case Measure.DIASTOLIC_RISE_FROM_BASELINE:
            return None if baseline is None else reading.diastolic_mmhg - baseline.diastolic_mmhg


_MEASURE_NAMES = {
    Measure.SYSTOLIC: "Systolic",
    Measure.DIASTOLIC: "Diastolic",
    Measure.HEART_RATE: "Heart rate",
    Measure.SPO2: "SpO2",
    Measure.RESPIRATORY_RATE: "Respiratory rate",
    Measure.SYSTOLIC_RISE_FROM_BASELINE: "Systolic",
    Measure.DIASTOLIC_RISE_FROM_BASELINE: "Diastolic",
}


def _threshold_message(rule: ThresholdRule, value: int, baseline: VitalSign | None) -> str:
    name, unit = _MEASURE_NAMES[rule.measure], rule.measure.unit
    if rule.measure.needs_baseline and baseline is not None:
        base = (
            baseline.systolic_mmhg
            if rule.measure is Measure.SYSTOLIC_RISE_FROM_BASELINE
            else baseline.diastolic_mmhg
        )
        return (
            f"{name} rose {value} {unit} from the pre-dose baseline of {base} {unit} "
            f"(alert at a rise of {rule.threshold} {unit} or more)."
        )
    if rule.direction is Direction.HIGH:
        return f"{name} {value} {unit} is at or above {rule.threshold} {unit}."
    return f"{name} {value} {unit} is below {rule.threshold} {unit}."


def _symptom_text(symptom: Symptom) -> str:
    return symptom.value.replace("_", " ").capitalize()


# --- pre-dose blood pressure ------------------------------------------------------------------


class PreDoseOutcome(StrEnum):
    PROCEED = "proceed"
    NEEDS_PRESCRIBER_DECISION = "needs_prescriber_decision"


@dataclass(frozen=True, slots=True)
class PrescriberDecisionToProceed:
    """The prescriber's documented decision to dose despite an elevated pre-dose BP."""

    prescriber: str
    decided_at: datetime
    rationale: str


@dataclass(frozen=True, slots=True)
class PreDoseBloodPressureCheck:
    outcome: PreDoseOutcome
    reasons: tuple[str, ...]
    elevated: bool
    severe: bool  # in the range the policy treats as a hypertensive crisis
    systolic_above: int
    diastolic_above: int
    sources: tuple[Source, ...]
    prescriber_decision: PrescriberDecisionToProceed | None
    policy_version: str


def pre_dose_blood_pressure_check(
    reading: VitalSign,
    *,
    policy: MonitoringPolicy,
    age_years: int | None = None,
    prescriber_decision: PrescriberDecisionToProceed | None = None,
) -> PreDoseBloodPressureCheck:
    """Proceed, or hold for the prescriber when pre-dose BP is above the policy guide.

    Above means strictly greater (the label's ">140/90"); either number above is enough.
    """
    pd = policy.pre_dose
    problems: list[Problem] = []
    if prescriber_decision is not None:
        if not prescriber_decision.prescriber.strip():
            problems.append(Problem("prescriber_decision.prescriber", "name the prescriber"))
        if not prescriber_decision.rationale.strip():
            problems.append(
                Problem(
                    "prescriber_decision.rationale",
                    "a decision to proceed needs the prescriber's documented rationale",
                )
            )
    if age_years is not None and (isinstance(age_years, bool) or not 0 <= age_years <= 130):
        problems.append(Problem("age_years", "age must be 0 to 130 years"))
    InvalidMonitoringInput.refuse_if_any(problems)

    reasons: list[str] = []
    sources = [pd.systolic_above.source, pd.diastolic_above.source]
    systolic_limit = pd.systolic_above.value
    older_age = pd.older_adult_age.value
    if older_age is not None:
        sources.append(pd.older_adult_age.source)
        if age_years is None:
            reasons.append(
                f"Age not given: the general guide (>{systolic_limit} systolic) applies, not the "
                f"{older_age}+ threshold."
            )
        elif age_years >= older_age:
            systolic_limit = pd.older_adult_systolic_above.value
            sources.append(pd.older_adult_systolic_above.source)
    diastolic_limit = pd.diastolic_above.value
    sbp, dbp = reading.systolic_mmhg, reading.diastolic_mmhg
    elevated = sbp > systolic_limit or dbp > diastolic_limit
    severe = sbp >= pd.severe_systolic_at_least.value or dbp >= pd.severe_diastolic_at_least.value
    if not elevated:
        reasons.insert(
            0, f"Pre-dose BP {sbp}/{dbp} mmHg is within {systolic_limit}/{diastolic_limit}."
        )
        outcome = PreDoseOutcome.PROCEED
    else:
        reasons.insert(
            0,
            f"Pre-dose BP {sbp}/{dbp} mmHg is above {systolic_limit}/{diastolic_limit}: weigh the "
            "risk of a short-term BP rise against the benefit; do not dose if a rise in BP or "
            "intracranial pressure poses a serious risk.",
        )
        outcome = _elevated_outcome(reading, severe, prescriber_decision, policy, reasons, sources)
    return PreDoseBloodPressureCheck(
        outcome,
        tuple(reasons),
        elevated=elevated,
        severe=elevated and severe,
        systolic_above=systolic_limit,
        diastolic_above=diastolic_limit,
        sources=tuple(sources),
        prescriber_decision=prescriber_decision,
        policy_version=policy.version,
    )


def _elevated_outcome(
    reading: VitalSign,
    severe: bool,
    prescriber_decision: PrescriberDecisionToProceed | None,
    policy: MonitoringPolicy,
    reasons: list[str],
    sources: list[Source],
) -> PreDoseOutcome:
    """An elevated pre-dose BP waits for the prescriber's decision on this very reading."""
    pd = policy.pre_dose
    if severe:
        sources.append(pd.severe_systolic_at_least.source)
        reasons.append(
            f"BP is in the range the clinic treats as a hypertensive crisis "
            f"(at or above {pd.severe_systolic_at_least.value} systolic or "
            f"{pd.severe_diastolic_at_least.value} diastolic)."
        )
    if prescriber_decision is None:
        return PreDoseOutcome.NEEDS_PRESCRIBER_DECISION
    if prescriber_decision.decided_at < reading.taken_at:
        reasons.append(
            "The prescriber's decision predates this reading; it needs a decision on this reading."
        )
        return PreDoseOutcome.NEEDS_PRESCRIBER_DECISION
    reasons.append(
        f"{prescriber_decision.prescriber} documented the decision to proceed at "
        f"{prescriber_decision.decided_at:%H:%M on %-d %b %Y}: {prescriber_decision.rationale}"
    )
    return PreDoseOutcome.PROCEED
