"""Per-patient outcomes for one instrument's dated totals (clinical-reference §5, §5.1).

Baseline rule: the last score at or before the first dosing session; if there is none (or no dosing
sessions are given), the first score, and ``baseline_rule`` says which applied so the UI can warn
when the baseline was taken after dosing started. Every later score is a follow-up; ``latest`` is
the last score. Change is ``latest - baseline`` (negative = fewer symptoms on a higher-is-worse
scale). Response, remission, rapid response and relapse are defined only for higher-is-worse
instruments; where an outcome is not defined, it is ``None`` and ``unavailable`` says why.

Rapid response: the first score taken within [first dose + window open, first dose + window close]
(both edges inclusive; default 18-36 h) meets the response criterion against the baseline.

Loss of response after remission (default rule): once a follow-up meets remission, a run of
consecutive follow-ups that each fail the response criterion (< 50 % reduction from baseline), at
least ``consecutive_measures`` long and spanning at least ``min_span`` from its first to its last
measure, raises a relapse warning on the measure that completes it. A measure that meets the
criterion ends the run. After a warning, a new remission is needed before another warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from fractions import Fraction

from kapstone.clinical.checks import is_naive, is_whole, naive_times
from kapstone.clinical.dose_moment import is_pre_dose
from kapstone.clinical.problems import Problem, Refused
from kapstone.clinical.provenance import Evidence, Source, Verification
from kapstone.clinical.reliable_change import (
    DEFAULT_RELIABILITY_PARAMETERS,
    RELIABLE_CHANGE_Z,
    RELIABLE_CHANGE_Z_SOURCE,
    ReliabilityParameters,
    ReliableChange,
    ReliableChangeCategory,
    reliable_change,
)

DEFAULT_POLICY_VERSION = "default-2026-11"


# --- errors -----------------------------------------------------------------------------------


class OutcomeInputError(Refused):
    """Bad scores, sessions or policy; ``problems`` lists every one found."""


# --- inputs -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScorePoint:
    at: datetime
    total: int


class Comparator(StrEnum):
    LESS_THAN = "<"
    AT_MOST = "<="

    def holds(self, value: int, threshold: int) -> bool:
        return value < threshold if self is Comparator.LESS_THAN else value <= threshold


@dataclass(frozen=True, slots=True)
class RemissionCriterion:
    instrument: str
    comparator: Comparator
    threshold: int
    source: Source

    def met(self, total: int) -> bool:
        return self.comparator.holds(total, self.threshold)

    def describe(self) -> str:
        return f"{self.instrument} total {self.comparator.value} {self.threshold}"


@dataclass(frozen=True, slots=True)
class CasenessCriterion:
    """A "case" when the total is at or above ``threshold`` (IAPT caseness)."""

    instrument: str
    threshold: int
    source: Source

    def is_case(self, total: int) -> bool:
        return total >= self.threshold


@dataclass(frozen=True, slots=True)
class PointChangeThreshold:
    """IAPT's operational reliable change: a drop of at least ``points``."""

    instrument: str
    points: int
    source: Source


class RelapseCriterion(StrEnum):
    LOST_RESPONSE = "lost_response"
    LOST_REMISSION = "lost_remission"


_POLICY = Evidence.CLINIC_POLICY

DEFAULT_REMISSION_CRITERIA: tuple[RemissionCriterion, ...] = (
    RemissionCriterion(
        "phq9",
        Comparator.LESS_THAN,
        5,
        Source("SUSTAIN3-TBL", Verification.VERIFIED, _POLICY, "PHQ-9 remission < 5"),
    ),
    RemissionCriterion(
        "gad7",
        Comparator.LESS_THAN,
        5,
        Source(
            "§5",
            Verification.UNVERIFIED,
            _POLICY,
            "minimal band 0-4 is verified; < 5 as a formal remission definition is not",
        ),
    ),
    RemissionCriterion(
        "madrs",
        Comparator.AT_MOST,
        12,
        Source(
            "SUSTAIN3-TBL",
            Verification.VERIFIED,
            _POLICY,
            "MADRS ≤ 12 as in the esketamine programme; ≤ 10 is an unverified alternative",
        ),
    ),
    RemissionCriterion(
        "qids_sr16",
        Comparator.AT_MOST,
        5,
        Source("§5", Verification.SECONDARY, _POLICY, "QIDS-SR16 ≤ 5 (Rush 2006 STAR*D)"),
    ),
    RemissionCriterion(
        "hamd17",
        Comparator.AT_MOST,
        7,
        Source("§5", Verification.VERIFIED, _POLICY, "HAM-D17 ≤ 7 (Möller 2011)"),
    ),
)

DEFAULT_CASENESS: tuple[CasenessCriterion, ...] = (
    CasenessCriterion("phq9", 10, Source("IAPT", Verification.SECONDARY, _POLICY, "PHQ-9 ≥ 10")),
    CasenessCriterion("gad7", 8, Source("IAPT", Verification.SECONDARY, _POLICY, "GAD-7 ≥ 8")),
)

DEFAULT_IAPT_RELIABLE_CHANGE: tuple[PointChangeThreshold, ...] = (
    PointChangeThreshold(
        "phq9", 6, Source("IAPT", Verification.SECONDARY, _POLICY, "PHQ-9 drop ≥ 6")
    ),
    PointChangeThreshold(
        "gad7", 4, Source("IAPT", Verification.SECONDARY, _POLICY, "GAD-7 drop ≥ 4")
    ),
)


RELAPSE_RULE_SOURCE = Source(
    "§5",
    Verification.UNVERIFIED,
    _POLICY,
    "software default proposal, no source; SUSTAIN-1 used MADRS ≥ 22 on 2 consecutive "
    "assessments 5-15 days apart (unverified)",
)
RESPONSE_SOURCE = Source(
    "§5",
    Verification.VERIFIED,
    _POLICY,
    "≥ 50 % reduction from baseline (Cochrane CD011612.pub3; TRANSFORM/SUSTAIN-3)",
)
RAPID_RESPONSE_SOURCE = Source(
    "HAN2016",
    Verification.UNVERIFIED,
    _POLICY,
    "the 24-h time point is HAN2016's; the 18-36 h tolerance window is clinic policy",
)


@dataclass(frozen=True, slots=True)
class RelapseRule:
    criterion: RelapseCriterion = RelapseCriterion.LOST_RESPONSE
    consecutive_measures: int = 2
    min_span: timedelta = timedelta(days=7)
    source: Source = RELAPSE_RULE_SOURCE

    def describe(self) -> str:
        what = (
            "less than the response reduction from baseline"
            if self.criterion is RelapseCriterion.LOST_RESPONSE
            else "above the remission threshold"
        )
        return (
            f"after remission, {self.consecutive_measures} or more consecutive measures {what}, "
            f"spanning at least {_format_span(self.min_span)}"
        )


@dataclass(frozen=True, slots=True)
class OutcomePolicy:
    """Every outcome threshold the clinic can change; results record ``version``."""

    version: str = DEFAULT_POLICY_VERSION
    response_min_reduction: Fraction = Fraction(1, 2)
    response_source: Source = RESPONSE_SOURCE
    remission: tuple[RemissionCriterion, ...] = DEFAULT_REMISSION_CRITERIA
    reliability: tuple[ReliabilityParameters, ...] = DEFAULT_RELIABILITY_PARAMETERS
    reliable_change_z: float = RELIABLE_CHANGE_Z
    reliable_change_z_source: Source = RELIABLE_CHANGE_Z_SOURCE
    rapid_response_window_open: timedelta = timedelta(hours=18)
    rapid_response_window_close: timedelta = timedelta(hours=36)
    rapid_response_source: Source = RAPID_RESPONSE_SOURCE
    relapse: RelapseRule = field(default_factory=RelapseRule)
    caseness: tuple[CasenessCriterion, ...] = DEFAULT_CASENESS
    iapt_reliable_change: tuple[PointChangeThreshold, ...] = DEFAULT_IAPT_RELIABLE_CHANGE

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        if not Fraction(0) < self.response_min_reduction <= Fraction(1):
            problems.append(
                Problem(
                    "response_min_reduction",
                    f"{self.response_min_reduction} must be in (0, 1], e.g. 1/2 for 50 %",
                )
            )
        if not self.rapid_response_window_open < self.rapid_response_window_close:
            problems.append(
                Problem(
                    "rapid_response_window",
                    "window open must be before window close (default 18 h to 36 h)",
                )
            )
        if self.rapid_response_window_open < timedelta(0):
            problems.append(
                Problem("rapid_response_window_open", "must be at or after the first dose")
            )
        if self.relapse.consecutive_measures < 1:
            problems.append(
                Problem("relapse.consecutive_measures", "must be at least 1 (default 2)")
            )
        if self.relapse.min_span < timedelta(0):
            problems.append(Problem("relapse.min_span", "must not be negative"))
        if not self.reliable_change_z > 0:
            problems.append(Problem("reliable_change_z", "must be > 0 (usually 1.96)"))
        for name, items in (
            ("remission", self.remission),
            ("reliability", self.reliability),
            ("caseness", self.caseness),
            ("iapt_reliable_change", self.iapt_reliable_change),
        ):
            seen = [item.instrument for item in items]
            for dup in sorted({i for i in seen if seen.count(i) > 1}):
                problems.append(
                    Problem(name, f"instrument {dup!r} appears more than once; give one")
                )
        OutcomeInputError.refuse_if_any(problems)

    def remission_for(self, instrument: str) -> RemissionCriterion | None:
        return next((c for c in self.remission if c.instrument == instrument), None)

    def reliability_for(self, instrument: str) -> ReliabilityParameters | None:
        return next((p for p in self.reliability if p.instrument == instrument), None)

    def caseness_for(self, instrument: str) -> CasenessCriterion | None:
        return next((c for c in self.caseness if c.instrument == instrument), None)

    def iapt_points_for(self, instrument: str) -> PointChangeThreshold | None:
        return next((c for c in self.iapt_reliable_change if c.instrument == instrument), None)


DEFAULT_OUTCOME_POLICY = OutcomePolicy()


# --- results ----------------------------------------------------------------------------------


class BaselineRule(StrEnum):
    LAST_AT_OR_BEFORE_FIRST_DOSE = "last_at_or_before_first_dose"
    FIRST_SCORE_NO_DOSING = "first_score_no_dosing"
    FIRST_SCORE_AFTER_DOSING_STARTED = "first_score_after_dosing_started"


@dataclass(frozen=True, slots=True)
class Unavailable:
    """Why an outcome is ``None``: not defined for this instrument, or not enough data."""

    outcome: str
    reason: str


@dataclass(frozen=True, slots=True)
class RapidResponse:
    first_dose_at: datetime
    measured_at: datetime
    hours_after_first_dose: float
    total: int
    percent_change: float
    responded: bool
    window_open: timedelta
    window_close: timedelta


@dataclass(frozen=True, slots=True)
class RelapseWarning:
    instrument: str
    criterion: RelapseCriterion
    remission_at: datetime
    remission_total: int
    triggered_at: datetime
    triggering_measures: tuple[ScorePoint, ...]
    rule: str
    policy_version: str

    @property
    def triggering_dates(self) -> tuple[datetime, ...]:
        return tuple(p.at for p in self.triggering_measures)


@dataclass(frozen=True, slots=True)
class ClinicallySignificantChange:
    """Jacobson-Truax: reliable improvement that also moves the patient from case to non-case."""

    caseness: CasenessCriterion
    case_at_baseline: bool
    case_at_latest: bool
    recovered: bool | None
    reliable_improvement: bool | None
    reliable_recovery: bool | None


@dataclass(frozen=True, slots=True)
class InstrumentOutcome:
    instrument: str
    policy_version: str
    higher_is_worse: bool
    baseline: ScorePoint
    baseline_rule: BaselineRule
    latest: ScorePoint
    follow_up_count: int
    change: int | None
    percent_change: float | None
    response: bool | None
    response_min_reduction: Fraction
    remission: bool | None
    remission_criterion: RemissionCriterion | None
    first_remission_at: datetime | None
    reliable_change: ReliableChange | None
    rapid_response: RapidResponse | None
    relapse_warnings: tuple[RelapseWarning, ...]
    clinically_significant: ClinicallySignificantChange | None
    unavailable: tuple[Unavailable, ...]


@dataclass(frozen=True, slots=True)
class IaptOutcome:
    """IAPT's paired PHQ-9 + GAD-7 definitions (§5, SECONDARY)."""

    case_at_start: bool
    case_at_end: bool
    recovery: bool | None
    reliable_improvement: bool
    reliable_recovery: bool | None
    policy_version: str


# --- computation ------------------------------------------------------------------------------


def _validate(
    instrument: str, scores: Sequence[ScorePoint], dosing_sessions: Sequence[datetime]
) -> None:
    problems: list[Problem] = []
    if not instrument:
        problems.append(Problem("instrument", "must be a non-empty name such as 'phq9'"))
    if not scores:
        problems.append(Problem("scores", "at least one score is needed"))
    seen: dict[datetime, int] = {}
    for i, point in enumerate(scores):
        if is_naive(point.at):
            problems.append(
                Problem(f"scores[{i}].at", "must be timezone-aware (got a naive datetime)")
            )
            continue
        if not is_whole(point.total, at_least=0):
            problems.append(
                Problem(f"scores[{i}].total", f"{point.total!r}: accepts an integer ≥ 0")
            )
        if point.at in seen:
            problems.append(
                Problem(
                    f"scores[{i}].at",
                    f"same time as scores[{seen[point.at]}]; one score per instant is accepted",
                )
            )
        seen[point.at] = i
    problems += naive_times(
        ((f"dosing_sessions[{i}]", at) for i, at in enumerate(dosing_sessions)),
        "must be timezone-aware (naive datetime)",
    )
    OutcomeInputError.refuse_if_any(problems)


def _reduction(baseline: int, total: int) -> Fraction:
    return Fraction(baseline - total, baseline)


def _percent_change(baseline: int, total: int) -> float:
    return float(Fraction(total - baseline, baseline) * 100)


def _format_span(span: timedelta) -> str:
    if span % timedelta(days=1) == timedelta(0):
        days = span // timedelta(days=1)
        return f"{days} day" if days == 1 else f"{days} days"
    return f"{span.total_seconds() / 3600:g} h"


def instrument_outcome(
    instrument: str,
    scores: Sequence[ScorePoint],
    dosing_sessions: Sequence[datetime] = (),
    *,
    policy: OutcomePolicy = DEFAULT_OUTCOME_POLICY,
    higher_is_worse: bool = True,
) -> InstrumentOutcome:
    """Baseline, latest and every outcome of one instrument's series (order of inputs is free)."""
    _validate(instrument, scores, dosing_sessions)
    series = sorted(scores, key=lambda p: p.at)
    first_dose = min(dosing_sessions) if dosing_sessions else None
    unavailable: list[Unavailable] = []

    if first_dose is None:
        baseline_index, baseline_rule = 0, BaselineRule.FIRST_SCORE_NO_DOSING
    else:
        before = [i for i, p in enumerate(series) if is_pre_dose(p.at, first_dose)]
        if before:
            baseline_index, baseline_rule = before[-1], BaselineRule.LAST_AT_OR_BEFORE_FIRST_DOSE
        else:
            baseline_index, baseline_rule = 0, BaselineRule.FIRST_SCORE_AFTER_DOSING_STARTED
    baseline = series[baseline_index]
    follow_ups = tuple(series[baseline_index + 1 :])
    latest = series[-1]

    change: int | None = None
    percent: float | None = None
    response: bool | None = None
    remission: bool | None = None
    rci: ReliableChange | None = None
    remission_criterion = policy.remission_for(instrument)
    reliability = policy.reliability_for(instrument)

    def responded(total: int) -> bool:
        return _reduction(baseline.total, total) >= policy.response_min_reduction

    can_respond = higher_is_worse and baseline.total > 0
    if not higher_is_worse:
        unavailable.append(
            Unavailable("response", "defined only for instruments where higher is worse")
        )
    elif baseline.total == 0:
        unavailable.append(Unavailable("response", "baseline is 0: no reduction is possible"))
    if not higher_is_worse:
        remission_criterion = None
        unavailable.append(
            Unavailable("remission", "defined only for instruments where higher is worse")
        )
    elif remission_criterion is None:
        unavailable.append(
            Unavailable("remission", f"the outcome policy defines no remission for {instrument}")
        )
    if reliability is None:
        unavailable.append(
            Unavailable(
                "reliable_change",
                f"the outcome policy has no reliability and SD for {instrument}",
            )
        )

    if not follow_ups:
        unavailable.append(Unavailable("change", "no score after the baseline yet"))
    else:
        change = latest.total - baseline.total
        if baseline.total == 0:
            unavailable.append(Unavailable("percent_change", "baseline is 0"))
        else:
            percent = _percent_change(baseline.total, latest.total)
        if can_respond:
            response = responded(latest.total)
        if remission_criterion is not None:
            remission = remission_criterion.met(latest.total)
        if reliability is not None:
            rci = reliable_change(
                baseline.total,
                latest.total,
                reliability,
                z=policy.reliable_change_z,
                higher_is_worse=higher_is_worse,
            )

    first_remission_at = (
        next((p.at for p in follow_ups if remission_criterion.met(p.total)), None)
        if remission_criterion is not None
        else None
    )

    rapid = _rapid_response(
        series, baseline, baseline_rule, first_dose, can_respond, policy, unavailable
    )
    warnings = _relapse_warnings(
        instrument, follow_ups, baseline, remission_criterion, can_respond, policy, unavailable
    )
    significant = _clinically_significant(
        instrument, baseline, latest, bool(follow_ups), higher_is_worse, rci, policy
    )

    return InstrumentOutcome(
        instrument=instrument,
        policy_version=policy.version,
        higher_is_worse=higher_is_worse,
        baseline=baseline,
        baseline_rule=baseline_rule,
        latest=latest,
        follow_up_count=len(follow_ups),
        change=change,
        percent_change=percent,
        response=response,
        response_min_reduction=policy.response_min_reduction,
        remission=remission,
        remission_criterion=remission_criterion,
        first_remission_at=first_remission_at,
        reliable_change=rci,
        rapid_response=rapid,
        relapse_warnings=warnings,
        clinically_significant=significant,
        unavailable=tuple(unavailable),
    )


def _rapid_response(
    series: Sequence[ScorePoint],
    baseline: ScorePoint,
    baseline_rule: BaselineRule,
    first_dose: datetime | None,
    can_respond: bool,
    policy: OutcomePolicy,
    unavailable: list[Unavailable],
) -> RapidResponse | None:
    if first_dose is None:
        unavailable.append(Unavailable("rapid_response", "no dosing session given"))
        return None
    if baseline_rule is not BaselineRule.LAST_AT_OR_BEFORE_FIRST_DOSE:
        unavailable.append(Unavailable("rapid_response", "no score before the first dose"))
        return None
    if not can_respond:
        unavailable.append(Unavailable("rapid_response", "response is not defined here"))
        return None
    opens = first_dose + policy.rapid_response_window_open
    closes = first_dose + policy.rapid_response_window_close
    measured = next((p for p in series if opens <= p.at <= closes), None)
    if measured is None:
        unavailable.append(
            Unavailable(
                "rapid_response",
                f"no score between {_format_span(policy.rapid_response_window_open)} and "
                f"{_format_span(policy.rapid_response_window_close)} after the first dose",
            )
        )
        return None
    return RapidResponse(
        first_dose_at=first_dose,
        measured_at=measured.at,
        hours_after_first_dose=(measured.at - first_dose).total_seconds() / 3600,
        total=measured.total,
        percent_change=_percent_change(baseline.total, measured.total),
        responded=_reduction(baseline.total, measured.total) >= policy.response_min_reduction,
        window_open=policy.rapid_response_window_open,
        window_close=policy.rapid_response_window_close,
    )


def _relapse_warnings(
    instrument: str,
    follow_ups: Sequence[ScorePoint],
    baseline: ScorePoint,
    remission_criterion: RemissionCriterion | None,
    can_respond: bool,
    policy: OutcomePolicy,
    unavailable: list[Unavailable],
) -> tuple[RelapseWarning, ...]:
    rule = policy.relapse
    if remission_criterion is None:
        unavailable.append(Unavailable("relapse_warnings", "remission is not defined here"))
        return ()
    if rule.criterion is RelapseCriterion.LOST_RESPONSE and not can_respond:
        unavailable.append(Unavailable("relapse_warnings", "response is not defined here"))
        return ()

    def lost(total: int) -> bool:
        if rule.criterion is RelapseCriterion.LOST_RESPONSE:
            return _reduction(baseline.total, total) < policy.response_min_reduction
        return not remission_criterion.met(total)

    warnings: list[RelapseWarning] = []
    remitted: ScorePoint | None = None
    run: list[ScorePoint] = []
    for point in follow_ups:
        if remitted is None:
            if remission_criterion.met(point.total):
                remitted = point
            continue
        if not lost(point.total):
            run = []
            continue
        run.append(point)
        if len(run) >= rule.consecutive_measures and run[-1].at - run[0].at >= rule.min_span:
            warnings.append(
                RelapseWarning(
                    instrument=instrument,
                    criterion=rule.criterion,
                    remission_at=remitted.at,
                    remission_total=remitted.total,
                    triggered_at=point.at,
                    triggering_measures=tuple(run),
                    rule=rule.describe(),
                    policy_version=policy.version,
                )
            )
            remitted, run = None, []
    return tuple(warnings)


def _clinically_significant(
    instrument: str,
    baseline: ScorePoint,
    latest: ScorePoint,
    has_follow_up: bool,
    higher_is_worse: bool,
    rci: ReliableChange | None,
    policy: OutcomePolicy,
) -> ClinicallySignificantChange | None:
    caseness = policy.caseness_for(instrument)
    if caseness is None or not has_follow_up or not higher_is_worse:
        return None
    case_start = caseness.is_case(baseline.total)
    case_end = caseness.is_case(latest.total)
    recovered = (not case_end) if case_start else None
    reliable = None if rci is None else rci.category is ReliableChangeCategory.RELIABLE_IMPROVEMENT
    both = None if recovered is None or reliable is None else recovered and reliable
    return ClinicallySignificantChange(
        caseness=caseness,
        case_at_baseline=case_start,
        case_at_latest=case_end,
        recovered=recovered,
        reliable_improvement=reliable,
        reliable_recovery=both,
    )


def iapt_outcome(
    phq9: InstrumentOutcome,
    gad7: InstrumentOutcome,
    *,
    policy: OutcomePolicy = DEFAULT_OUTCOME_POLICY,
) -> IaptOutcome | None:
    """IAPT recovery and reliable improvement from a PHQ-9 and a GAD-7 outcome.

    Case = PHQ-9 or GAD-7 at caseness; recovery = case at start and neither at caseness at the
    end; reliable improvement = PHQ-9 drop ≥ 6 and/or GAD-7 drop ≥ 4; reliable recovery = both.
    ``None`` until both instruments have a follow-up.
    """
    problems: list[Problem] = []
    if phq9.instrument != "phq9":
        problems.append(Problem("phq9", f"got {phq9.instrument!r}; accepts 'phq9'"))
    if gad7.instrument != "gad7":
        problems.append(Problem("gad7", f"got {gad7.instrument!r}; accepts 'gad7'"))
    criteria = [
        (policy.caseness_for(name), policy.iapt_points_for(name)) for name in ("phq9", "gad7")
    ]
    for name, (case, points) in zip(("phq9", "gad7"), criteria, strict=True):
        if case is None or points is None:
            problems.append(Problem("policy", f"needs caseness and IAPT points for {name}"))
    OutcomeInputError.refuse_if_any(problems)
    if phq9.follow_up_count == 0 or gad7.follow_up_count == 0:
        return None
    (phq_case, phq_points), (gad_case, gad_points) = criteria
    # Checked above; the asserts narrow the Optionals for mypy.
    assert phq_case is not None
    assert phq_points is not None
    assert gad_case is not None
    assert gad_points is not None
    case_start = phq_case.is_case(phq9.baseline.total) or gad_case.is_case(gad7.baseline.total)
    case_end = phq_case.is_case(phq9.latest.total) or gad_case.is_case(gad7.latest.total)
    improved = (phq9.baseline.total - phq9.latest.total >= phq_points.points) or (
        gad7.baseline.total - gad7.latest.total >= gad_points.points
    )
    recovery = (not case_end) if case_start else None
    return IaptOutcome(
        case_at_start=case_start,
        case_at_end=case_end,
        recovery=recovery,
        reliable_improvement=improved,
        reliable_recovery=None if recovery is None else recovery and improved,
        policy_version=policy.version,
    )
