"""The clinic's eligibility policy: every threshold the screen uses that a medical director may set.

Values the reference marks UNVERIFIED live only here, each with its Source, so the shell can show
why a default was chosen and record which policy version produced a decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from types import MappingProxyType

from kapstone.clinical.problems import Problem, Refused
from kapstone.clinical.provenance import Evidence, Source, Verification


class EligibilityPolicyError(Refused):
    """A policy that cannot be applied, with every problem found."""


@dataclass(frozen=True, slots=True)
class EligibilityPolicy:
    version: str = "default-2026-11"
    # Baseline BP above which ketamine's pressor effect needs a documented risk-benefit judgement.
    bp_precaution_systolic_mmhg: int = 140
    bp_precaution_diastolic_mmhg: int = 90
    older_adult_age_years: int = 65
    older_adult_bp_precaution_systolic_mmhg: int = 150
    older_adult_bp_precaution_diastolic_mmhg: int = 90
    # Baseline BP at or above which the patient is not eligible until hypertension is controlled.
    bp_hold_systolic_mmhg: int = 180
    bp_hold_diastolic_mmhg: int = 110
    recent_cardiovascular_event_days: int = 42
    benzodiazepine_diazepam_equivalent_mg: float = 8.0
    adequate_trial_min_weeks: float = 6.0
    count_partial_response_as_failure: bool = True
    recent_substance_use_days: int = 90
    obesity_bmi: float = 30.0
    # DAST-10 total from which the screen counts as positive (§4.9 gives bands, no cut-off).
    dast10_positive_from_score: int = 3
    # Relative rules the medical director treats as absolute (the reference leaves several
    # "SOFT/HARD per policy": breastfeeding, active substance use, unstable angina ...).
    escalated_rules: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        problems = _problems(self)
        EligibilityPolicyError.refuse_if_any(problems)

    @staticmethod
    def source_of(name: str) -> Source:
        return POLICY_SOURCES[name]


def _problems(policy: EligibilityPolicy) -> tuple[Problem, ...]:
    problems: list[Problem] = []
    if not policy.version.strip():
        problems.append(Problem("version", "is empty", "a non-empty version label"))
    positive = {
        f.name: getattr(policy, f.name)
        for f in fields(policy)
        if f.name not in {"version", "escalated_rules", "count_partial_response_as_failure"}
    }
    for name, value in positive.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            problems.append(Problem(name, f"is {value!r}", "a positive number"))
    if problems:
        return tuple(problems)
    if not isinstance(policy.dast10_positive_from_score, int) or not (
        1 <= policy.dast10_positive_from_score <= 10
    ):
        problems.append(
            Problem(
                "dast10_positive_from_score",
                f"is {policy.dast10_positive_from_score!r}",
                "a whole DAST-10 score from 1 to 10",
            )
        )
    for kind in ("systolic", "diastolic"):
        hold = getattr(policy, f"bp_hold_{kind}_mmhg")
        for prefix in ("bp_precaution", "older_adult_bp_precaution"):
            precaution = getattr(policy, f"{prefix}_{kind}_mmhg")
            if hold <= precaution:
                problems.append(
                    Problem(
                        f"bp_hold_{kind}_mmhg",
                        f"{hold} is not above {prefix}_{kind}_mmhg ({precaution})",
                        "a hold threshold above every precaution threshold",
                    )
                )
    return tuple(problems)


def _policy(key: str, verification: Verification, note: str) -> Source:
    return Source(key, verification, Evidence.CLINIC_POLICY, note)


POLICY_SOURCES: MappingProxyType[str, Source] = MappingProxyType(
    {
        "bp_precaution_systolic_mmhg": Source(
            "SPRAVATO-EU",
            Verification.VERIFIED,
            Evidence.LABEL,
            "SmPC '>140/90 as a general guide' (stored copy truncated); §2.1",
        ),
        "bp_precaution_diastolic_mmhg": Source(
            "SPRAVATO-EU",
            Verification.VERIFIED,
            Evidence.LABEL,
            "SmPC '>140/90 as a general guide' (stored copy truncated); §2.1",
        ),
        "older_adult_age_years": _policy(
            "§2.1", Verification.UNVERIFIED, "age split for the BP guide; source needed"
        ),
        "older_adult_bp_precaution_systolic_mmhg": _policy(
            "§2.1", Verification.UNVERIFIED, ">150/90 for >= 65 years; source needed"
        ),
        "older_adult_bp_precaution_diastolic_mmhg": _policy(
            "§2.1", Verification.UNVERIFIED, ">150/90 for >= 65 years; source needed"
        ),
        "bp_hold_systolic_mmhg": _policy(
            "§2.1",
            Verification.UNVERIFIED,
            "no ketamine guideline number confirmed; ACC/AHA crisis > 180/120 from memory; "
            "YIP2022 argues for general hypertension guidance",
        ),
        "bp_hold_diastolic_mmhg": _policy(
            "§2.1",
            Verification.UNVERIFIED,
            "no ketamine guideline number confirmed (110 or 120 circulate); source needed",
        ),
        "recent_cardiovascular_event_days": Source(
            "SPRAVATO-EU",
            Verification.VERIFIED,
            Evidence.LABEL,
            "PIL: heart attack within the last 6 weeks (SmPC wording SECONDARY)",
        ),
        "benzodiazepine_diazepam_equivalent_mg": Source(
            "ANDRASHKO2020",
            Verification.VERIFIED,
            Evidence.PUBLISHED_PRACTICE,
            "> 8 mg/day diazepam-equivalent separated non-responders (abstract, n = 47)",
        ),
        "adequate_trial_min_weeks": _policy(
            "SPRAVATO-EU",
            Verification.UNVERIFIED,
            "the SmPC TRD definition gives no duration; 6 weeks is the seed's '6-8 weeks'",
        ),
        "count_partial_response_as_failure": _policy(
            "SPRAVATO-EU",
            Verification.UNVERIFIED,
            "'have not responded' read as: no full response; source needed",
        ),
        "recent_substance_use_days": _policy(
            "§1.5",
            Verification.UNVERIFIED,
            "clinic example's 'within previous three months' criterion, text truncated",
        ),
        "obesity_bmi": _policy(
            "SPRAVATO-EU",
            Verification.UNVERIFIED,
            "label says 'sleep apnoea with overweight'; BMI cut-off is a clinic choice",
        ),
        "dast10_positive_from_score": _policy(
            "§4.9",
            Verification.UNVERIFIED,
            "no positive-screen cut-off in the reference; 3, the start of the 'moderate' band, "
            "is a clinic choice",
        ),
        "escalated_rules": _policy(
            "§1.6",
            Verification.UNVERIFIED,
            "rule table leaves several precautions 'SOFT/HARD per policy'",
        ),
    }
)
