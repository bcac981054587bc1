"""Jacobson-Truax reliable change index (clinical-reference §5.1).

SE = SD · √(1 - r); S_diff = SE · √2; RCI = (post - pre) / S_diff; reliable when |RCI| > 1.96.
Reliability and SD are per instrument and population-specific, so they travel with the result: the
UI must show which r and SD produced an index.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from kapstone.clinical.problems import Problem, Refused
from kapstone.clinical.provenance import Evidence, Source, Verification

RELIABLE_CHANGE_Z = 1.96
RELIABLE_CHANGE_Z_SOURCE = Source(
    "§5.1",
    Verification.SECONDARY,
    Evidence.PUBLISHED_PRACTICE,
    "Jacobson & Truax 1991: reliable change if |RCI| > 1.96 (p < .05, two-tailed)",
)


class ReliableChangeInputError(Refused):
    """Raised for impossible reliability parameters; ``problems`` names each one."""


class ReliableChangeCategory(StrEnum):
    RELIABLE_IMPROVEMENT = "reliable_improvement"
    NO_RELIABLE_CHANGE = "no_reliable_change"
    RELIABLE_DETERIORATION = "reliable_deterioration"


class ReliabilityKind(StrEnum):
    INTERNAL_CONSISTENCY = "cronbach_alpha"
    TEST_RETEST = "test_retest"


@dataclass(frozen=True, slots=True)
class ReliabilityParameters:
    """The r_xx and SD one instrument's reliable change is computed with, each with its Source."""

    instrument: str
    reliability: float
    reliability_kind: ReliabilityKind
    reliability_source: Source
    standard_deviation: float
    standard_deviation_source: Source

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        if not 0.0 <= self.reliability < 1.0:
            problems.append(
                Problem(
                    "reliability", f"{self.reliability!r} is outside [0, 1); r = 1 means S_diff = 0"
                )
            )
        if not self.standard_deviation > 0.0 or math.isinf(self.standard_deviation):
            problems.append(
                Problem(
                    "standard_deviation", f"{self.standard_deviation!r} must be a finite number > 0"
                )
            )
        ReliableChangeInputError.refuse_if_any(problems)

    @property
    def standard_error_of_measurement(self) -> float:
        return self.standard_deviation * math.sqrt(1.0 - self.reliability)

    @property
    def standard_error_of_difference(self) -> float:
        return math.sqrt(2.0) * self.standard_error_of_measurement

    def minimum_reliable_change(self, z: float = RELIABLE_CHANGE_Z) -> int:
        """Smallest whole-point change whose |RCI| exceeds z (the reference's "rounded up")."""
        # floor + 1 rather than ceil: a change of exactly z·S_diff gives |RCI| == z, not > z.
        return math.floor(z * self.standard_error_of_difference) + 1


@dataclass(frozen=True, slots=True)
class ReliableChange:
    instrument: str
    baseline_total: int
    latest_total: int
    change: int
    index: float
    threshold: float
    category: ReliableChangeCategory
    reliability: float
    standard_deviation: float
    standard_error_of_difference: float
    minimum_reliable_change: int
    parameters: ReliabilityParameters


def reliable_change(
    baseline_total: int,
    latest_total: int,
    parameters: ReliabilityParameters,
    *,
    z: float = RELIABLE_CHANGE_Z,
    higher_is_worse: bool = True,
) -> ReliableChange:
    """Jacobson-Truax RCI for one pre/post pair; the category follows the instrument's direction."""
    if not z > 0.0 or math.isinf(z):
        raise ReliableChangeInputError(
            (Problem("z", f"{z!r} must be a finite number > 0 (usually 1.96)"),)
        )
    change = latest_total - baseline_total
    s_diff = parameters.standard_error_of_difference
    index = change / s_diff
    if abs(index) > z:
        improved = (change < 0) == higher_is_worse
        category = (
            ReliableChangeCategory.RELIABLE_IMPROVEMENT
            if improved
            else ReliableChangeCategory.RELIABLE_DETERIORATION
        )
    else:
        category = ReliableChangeCategory.NO_RELIABLE_CHANGE
    return ReliableChange(
        instrument=parameters.instrument,
        baseline_total=baseline_total,
        latest_total=latest_total,
        change=change,
        index=index,
        threshold=z,
        category=category,
        reliability=parameters.reliability,
        standard_deviation=parameters.standard_deviation,
        standard_error_of_difference=s_diff,
        minimum_reliable_change=parameters.minimum_reliable_change(z),
        parameters=parameters,
    )


_SD_NOTE = (
    "illustrative SD from the reference's worked check, not a published SD; the medical director "
    "should set the clinic's population SD"
)


def _cronbach(
    instrument: str,
    alpha: float,
    verification: Verification,
    evidence: Evidence,
    citation: str,
    standard_deviation: float,
) -> ReliabilityParameters:
    """Internal consistency from the literature (§5.1), with the reference's illustrative SD."""
    return ReliabilityParameters(
        instrument=instrument,
        reliability=alpha,
        reliability_kind=ReliabilityKind.INTERNAL_CONSISTENCY,
        reliability_source=Source(
            "§5.1", verification, evidence, f"Cronbach's alpha {alpha} ({citation})"
        ),
        standard_deviation=standard_deviation,
        standard_deviation_source=Source(
            "§5.1", Verification.UNVERIFIED, Evidence.CLINIC_POLICY, _SD_NOTE
        ),
    )


PHQ9_RELIABILITY = _cronbach(
    "phq9", 0.89, Verification.SECONDARY, Evidence.PUBLISHED_PRACTICE, "Kroenke 2001", 5.5
)
GAD7_RELIABILITY = _cronbach(
    "gad7", 0.92, Verification.UNVERIFIED, Evidence.CLINIC_POLICY, "Spitzer 2006", 4.5
)

# The reference gives r and SD for these two only; other instruments have no reliable change until
# the clinic supplies parameters.
DEFAULT_RELIABILITY_PARAMETERS: tuple[ReliabilityParameters, ...] = (
    PHQ9_RELIABILITY,
    GAD7_RELIABILITY,
)
