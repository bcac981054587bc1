"""Program outcomes for a cohort of courses: the definitions, inputs and outputs of the cohort
dashboard (pure).

The shell gathers compact rows (one :class:`Course` per patient: dose times, one instrument's dated
totals, program, route, modalities, conditions, treatment resistance) and
:mod:`kapstone.clinical.cohort_figures` computes every figure from them, so the whole computation
can be tested without a database and timed on a large network.

Definitions (clinic policy, :class:`CohortPolicy`, each with its source):

* **Start**: a course starts at its first dosing session held (not cancelled, at or before ``now``);
  a course is in the cohort when that moment falls in ``[period_start, period_end)``.
* **Baseline**: the last score at or before the first dose and no older than
  ``baseline_max_age`` (30 days): a score from long before says little about the patient at the
  start. A course with none (or a baseline of 0, from which no reduction is possible) is counted
  as "no usable baseline" at every time point, never dropped.
* **Completed**: at least ``Course.course_sessions`` dosing sessions held (the program's induction
  length); the end of course is the moment of that last induction session. Any dose after it is
  maintenance (or a booster): ``maintenance_start``.
* **Time points**: each is a window around an anchor (the first dose or the end of course); the
  score taken in the window (the first one, the last one or the nearest to the target, as the
  time point says) is the patient's score there, and must come after the first dose. A course
  whose window has closed with no score is **missing**; one whose window has not closed yet is
  **not yet due**; one that never reached its anchor (end of course not completed) is
  **not completed**. Proportions are of those measured (complete cases), with the missing shown
  beside them and a second, conservative figure counting every missing patient as not responding.
* **Response / remission**: the outcome policy's (``kapstone.clinical.outcomes``): a reduction of
  at least ``response_min_reduction`` from baseline; remission by the instrument's criterion.
* **Trajectory**: for dosing session k, the last score after session k-1 and at or before session
  k (for k = 1 the baseline), so each point is "before session k".
* **Durability of response**: from the first response (the first score after the first dose that
  meets the response criterion) to the loss of response: the outcome policy's relapse rule run
  (``consecutive_measures`` consecutive scores that fail the response criterion, spanning at least
  ``min_span``), dated at the score that completes the run. Censored at the last score before
  maintenance starts (maintenance changes what happens next, so follow-up stops there), or else at
  the last score. Times are whole days (rounded to the nearest day).

No identifiers enter: a course carries an opaque key, and every output is an aggregate.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from kapstone.clinical.outcomes import DEFAULT_OUTCOME_POLICY, OutcomePolicy, RemissionCriterion
from kapstone.clinical.problems import Problem, Refused
from kapstone.clinical.provenance import Evidence, Source, Verification
from kapstone.clinical.statistics.logrank import LogRankTest
from kapstone.clinical.statistics.means import MeanEstimate
from kapstone.clinical.statistics.proportions import (
    ProportionDifference,
    ProportionEstimate,
)
from kapstone.clinical.statistics.survival import (
    SurvivalCurve,
)

# 2026-11-21: durability counted in whole days. 2026-12-06: durability curves stop where fewer
# than survival_min_at_risk responders are followed.
DEFAULT_COHORT_POLICY_VERSION = "default-2026-12-06"
_POLICY = Evidence.CLINIC_POLICY
_DAY = timedelta(days=1)
_HOUR = timedelta(hours=1)


# --- errors -----------------------------------------------------------------------------------


class CohortInputError(Refused):
    """The cohort cannot be summarised; ``problems`` lists every fault found."""


# --- policy -----------------------------------------------------------------------------------


class Anchor(StrEnum):
    FIRST_DOSE = "first_dose"
    END_OF_COURSE = "end_of_course"


class Pick(StrEnum):
    FIRST = "first"
    LAST = "last"
    NEAREST = "nearest"


@dataclass(frozen=True, slots=True)
class TimePoint:
    key: str
    label: str
    anchor: Anchor
    target: timedelta
    opens: timedelta  # window start, relative to the anchor
    closes: timedelta  # window end (inclusive), relative to the anchor
    pick: Pick
    source: Source

    def describe(self) -> str:
        anchor = "the first dose" if self.anchor is Anchor.FIRST_DOSE else "the last induction dose"
        which = {
            Pick.FIRST: "the first score",
            Pick.LAST: "the last score",
            Pick.NEAREST: "the score nearest to the target",
        }[self.pick]
        return f"{which} from {_span(self.opens)} to {_span(self.closes)} after {anchor}"


def _span(span: timedelta) -> str:
    sign = "-" if span < timedelta(0) else ""
    span = abs(span)
    if span % _DAY == timedelta(0) and span >= _DAY:
        days = span // _DAY
        return f"{sign}{days} day" if days == 1 else f"{sign}{days} days"
    hours = span.total_seconds() / 3600
    return f"{sign}{hours:g} h"


_TIME_POINT_NOTE = "windows are clinic policy, aligned with the measurement schedule's follow-ups"


def _rapid_time_point(policy: OutcomePolicy) -> TimePoint:
    return TimePoint(
        key="24h",
        label="24 hours",
        anchor=Anchor.FIRST_DOSE,
        target=24 * _HOUR,
        opens=policy.rapid_response_window_open,
        closes=policy.rapid_response_window_close,
        pick=Pick.FIRST,
        source=Source(
            "HAN2016",
            Verification.UNVERIFIED,
            _POLICY,
            "the 24-h time point is HAN2016's; the window is the outcome policy's rapid-response "
            "window, so the dashboard and the chart's rapid response agree",
        ),
    )


def _months(key: str, label: str, days: int, half_width: int) -> TimePoint:
    return TimePoint(
        key=key,
        label=label,
        anchor=Anchor.FIRST_DOSE,
        target=days * _DAY,
        opens=(days - half_width) * _DAY,
        closes=(days + half_width) * _DAY,
        pick=Pick.NEAREST,
        source=Source("§5", Verification.UNVERIFIED, _POLICY, _TIME_POINT_NOTE),
    )


def default_time_points(policy: OutcomePolicy = DEFAULT_OUTCOME_POLICY) -> tuple[TimePoint, ...]:
    return (
        _rapid_time_point(policy),
        TimePoint(
            key="end_of_course",
            label="End of course",
            anchor=Anchor.END_OF_COURSE,
            target=timedelta(0),
            # The schedule's end-of-course measure opens a day before the last dose.
            opens=-_DAY,
            closes=7 * _DAY,
            pick=Pick.LAST,
            source=Source("§5", Verification.UNVERIFIED, _POLICY, _TIME_POINT_NOTE),
        ),
        _months("1m", "1 month", 30, 7),
        _months("3m", "3 months", 91, 21),
        _months("6m", "6 months", 182, 30),
        _months("12m", "12 months", 365, 45),
    )


BASELINE_SOURCE = Source(
    "§5",
    Verification.UNVERIFIED,
    _POLICY,
    "baseline: the last score at or before the first dose (as the chart's outcomes), here no "
    "older than 30 days",
)
DURABILITY_SOURCE = Source(
    "§5",
    Verification.UNVERIFIED,
    _POLICY,
    "loss of response uses the relapse rule's run (consecutive measures, minimum span), counted "
    "from the first response, in whole days; censoring at maintenance is clinic policy",
)


SURVIVAL_MIN_AT_RISK_SOURCE = Source(
    "§5",
    Verification.UNVERIFIED,
    _POLICY,
    "durability curves stop where fewer than 5 responders are still followed: one loss then moves "
    "the curve by 20 % or more, so its tail says little (Pocock, Clayton & Altman, Lancet 2002: "
    "show the numbers at risk and curtail curves where few remain); the number is clinic policy",
)


DOSE_BAND_SOURCE = Source(
    "§3",
    Verification.UNVERIFIED,
    _POLICY,
    "bands of the total mg given in a session, for comparing rates only; not a dosing rule",
)


# The cohorts app keeps each course's facts in fixed columns: one per time point and per session
# of the trajectory, up to these limits.
MAX_TIME_POINTS = 8
MAX_TRAJECTORY_SESSIONS = 12


@dataclass(frozen=True, slots=True)
class CohortPolicy:
    version: str = DEFAULT_COHORT_POLICY_VERSION
    outcome: OutcomePolicy = DEFAULT_OUTCOME_POLICY
    time_points: tuple[TimePoint, ...] = field(default_factory=default_time_points)
    baseline_max_age: timedelta = 30 * _DAY
    baseline_source: Source = BASELINE_SOURCE
    # Breakdowns compare response at one time point: the end of course, where the clinic
    # measures everyone it treated.
    breakdown_time_point: str = "end_of_course"
    trajectory_sessions: int = 12
    durability_source: Source = DURABILITY_SOURCE
    # Durability curves are drawn only while at least this many responders are followed.
    survival_min_at_risk: int = 5
    survival_min_at_risk_source: Source = SURVIVAL_MIN_AT_RISK_SOURCE
    # Lower edges of the dose bands, in mg given per session (whatever the route).
    dose_band_edges: tuple[int, ...] = (0, 25, 50, 75, 100)
    dose_band_source: Source = DOSE_BAND_SOURCE
    confidence: float = 0.95

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        keys = [t.key for t in self.time_points]
        if not keys:
            problems.append(Problem("time_points", "at least one time point is needed"))
        for dup in sorted({k for k in keys if keys.count(k) > 1}):
            problems.append(Problem("time_points", f"{dup!r} appears more than once"))
        for t in self.time_points:
            if not t.opens <= t.target <= t.closes:
                problems.append(
                    Problem(f"time_points[{t.key}]", "the target must lie inside its window")
                )
        if self.breakdown_time_point not in keys:
            problems.append(
                Problem("breakdown_time_point", f"{self.breakdown_time_point!r} is not one")
            )
        if self.baseline_max_age <= timedelta(0):
            problems.append(Problem("baseline_max_age", "must be positive"))
        edges = self.dose_band_edges
        if not edges or edges[0] != 0 or any(b <= a for a, b in itertools.pairwise(edges)):
            problems.append(
                Problem("dose_band_edges", "must start at 0 and rise, e.g. (0, 25, 50)")
            )
        if len(self.time_points) > MAX_TIME_POINTS:
            problems.append(
                Problem("time_points", f"at most {MAX_TIME_POINTS} time points are kept")
            )
        if not 1 <= self.trajectory_sessions <= MAX_TRAJECTORY_SESSIONS:
            problems.append(
                Problem("trajectory_sessions", f"must be from 1 to {MAX_TRAJECTORY_SESSIONS}")
            )
        if self.survival_min_at_risk < 1:
            problems.append(Problem("survival_min_at_risk", "must be at least 1 responder, e.g. 5"))
        if not 0 < self.confidence < 1:
            problems.append(Problem("confidence", "must be between 0 and 1, e.g. 0.95"))
        CohortInputError.refuse_if_any(problems)

    def time_point(self, key: str) -> TimePoint:
        return next(t for t in self.time_points if t.key == key)

    @property
    def breakdown_index(self) -> int:
        """The breakdown time point's place among the time points."""
        return next(i for i, t in enumerate(self.time_points) if t.key == self.breakdown_time_point)


DEFAULT_COHORT_POLICY = CohortPolicy()


# --- published reference figures (clinical-reference §6; VERIFIED figures only) ---------------


@dataclass(frozen=True, slots=True)
class ReferenceFigure:
    time_point: str  # a TimePoint key
    study: str
    population: str
    instrument: str  # what the figure was measured with
    response_percent: float | None
    remission_percent: float | None
    note: str
    source: Source


def _verified(key: str, note: str = "") -> Source:
    return Source(key, Verification.VERIFIED, Evidence.PUBLISHED_PRACTICE, note)


REFERENCE_FIGURES: tuple[ReferenceFigure, ...] = (
    ReferenceFigure(
        "24h",
        "Han 2016 meta-analysis (9 RCTs, n = 368)",
        "MDD, racemic ketamine vs placebo",
        "clinician-rated (MADRS / HAM-D)",
        52.2,
        20.6,
        "ketamine arms at 24 h",
        _verified("HAN2016", "§6.1"),
    ),
    ReferenceFigure(
        "end_of_course",
        "Alnefeesi 2022 meta-analysis (k = 79, n = 2665)",
        "real-world treatment-resistant depression",
        "mixed scales",
        45.0,
        30.0,
        "pooled real-world courses; time points vary between studies",
        _verified("ALNEFEESI2022", "§6.1"),
    ),
    ReferenceFigure(
        "end_of_course",
        "SUSTAIN-3 induction (n = 32)",
        "previously relapsed on esketamine + antidepressant",
        "PHQ-9",
        46.9,
        21.9,
        "PHQ-9 response ≥ 50 %, remission < 5",
        _verified("SUSTAIN3-TBL", "§6.4"),
    ),
    ReferenceFigure(
        "end_of_course",
        "SUSTAIN-3 induction (n = 32)",
        "previously relapsed on esketamine + antidepressant",
        "MADRS",
        71.9,
        62.5,
        "MADRS response ≥ 50 %, remission ≤ 12",
        _verified("SUSTAIN3-TBL", "§6.4"),
    ),
    ReferenceFigure(
        "end_of_course",
        "TRANSFORM-2, day 28",
        "TRD, esketamine 56/84 mg + new oral antidepressant",
        "MADRS",
        69.3,
        52.5,
        "day 28 is the end of the 4-week induction; placebo arm 52.0 % / 31.0 %",
        _verified("TRANSFORM-TBL", "§6.4"),
    ),
)


def references_for(time_point: str) -> tuple[ReferenceFigure, ...]:
    return tuple(f for f in REFERENCE_FIGURES if f.time_point == time_point)


# --- inputs -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionSafety:
    """One charted dosing session: its route, total dose given, peak dissociation per scale and
    its adverse events' severities ("mild", "moderate", "severe")."""

    route: str
    dose_mg: float | None
    dissociation: tuple[tuple[str, int], ...]  # (scale, the session's highest score)
    adverse_events: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Course:
    """One patient's course. ``doses`` and ``scores`` are ascending; scores are (moment, total)
    pairs of one instrument. Empty strings mean "not recorded"."""

    key: int
    site_id: int | None
    program: str
    route: str
    modalities: tuple[str, ...]
    conditions: tuple[str, ...]
    treatment_resistant: bool | None
    doses: tuple[datetime, ...]
    course_sessions: int
    scores: tuple[tuple[datetime, int], ...]
    sessions: tuple[SessionSafety, ...] = ()  # chair-side records of the course's sessions


class Filterable(Protocol):
    """What a filter looks at: a gathered :class:`Course` or its kept facts."""

    @property
    def site_id(self) -> int | None: ...
    @property
    def program(self) -> str: ...
    @property
    def route(self) -> str: ...
    @property
    def modalities(self) -> tuple[str, ...]: ...


@dataclass(frozen=True, slots=True)
class CohortFilters:
    site_id: int | None = None
    program: str | None = None
    modality: str | None = None
    route: str | None = None

    def admits(self, course: Filterable) -> bool:
        return (
            (self.site_id is None or course.site_id == self.site_id)
            and (self.program is None or course.program == self.program)
            and (self.route is None or course.route == self.route)
            and (self.modality is None or self.modality in course.modalities)
        )


NO_FILTERS = CohortFilters()


# --- outputs ----------------------------------------------------------------------------------


class Dimension(StrEnum):
    CONDITION = "condition"
    PROGRAM = "program"
    ROUTE = "route"
    MODALITY = "modality"
    TREATMENT_RESISTANT = "treatment_resistant"
    BASELINE_SEVERITY = "baseline_severity"

    @property
    def label(self) -> str:
        return _DIMENSION_LABELS[self]

    @property
    def multi_valued(self) -> bool:
        """A patient can sit in several groups (two presenting conditions, two modalities)."""
        return self in (Dimension.CONDITION, Dimension.MODALITY)


_DIMENSION_LABELS = {
    Dimension.CONDITION: "Presenting condition",
    Dimension.PROGRAM: "Program",
    Dimension.ROUTE: "Route",
    Dimension.MODALITY: "Integration modality",
    Dimension.TREATMENT_RESISTANT: "Treatment-resistant depression",
    Dimension.BASELINE_SEVERITY: "Baseline severity",
}


@dataclass(frozen=True, slots=True)
class TimePointResult:
    time_point: TimePoint
    started: int
    no_baseline: int
    not_completed: int
    not_yet_due: int
    measured: int
    missing: int
    responders: int
    remitters: int
    response: ProportionEstimate | None
    remission: ProportionEstimate | None
    # Every missing patient counted as not responding / not remitting: the floor of the truth.
    response_missing_as_failure: ProportionEstimate | None
    remission_missing_as_failure: ProportionEstimate | None
    references: tuple[ReferenceFigure, ...]

    @property
    def due(self) -> int:
        return self.measured + self.missing


@dataclass(frozen=True, slots=True)
class GroupRow:
    group: str  # a raw value ("" = not recorded); the shell words it
    patients: int
    measured: int
    responders: int
    remitters: int
    response: ProportionEstimate | None
    remission: ProportionEstimate | None
    versus_rest: ProportionDifference | None  # response here minus response in everyone else


@dataclass(frozen=True, slots=True)
class Breakdown:
    dimension: Dimension
    time_point: str
    rows: tuple[GroupRow, ...]


@dataclass(frozen=True, slots=True)
class TrajectoryPoint:
    session: int  # the score before this dosing session (1 = baseline)
    estimate: MeanEstimate


@dataclass(frozen=True, slots=True)
class DurabilityGroup:
    group: str
    responders: int
    losses: int
    curve: SurvivalCurve


@dataclass(frozen=True, slots=True)
class Durability:
    dimension: Dimension | None  # None: everyone together
    groups: tuple[DurabilityGroup, ...]
    log_rank: LogRankTest | None
    log_rank_unavailable: str


@dataclass(frozen=True, slots=True)
class SafetyRow:
    route: str
    dose_band: str  # "25-49 mg", "" when no dose was charted
    sessions: int
    with_adverse_event: int
    with_moderate_or_severe: int
    adverse_event_rate: ProportionEstimate | None
    moderate_or_severe_rate: ProportionEstimate | None
    dissociation: tuple[tuple[str, MeanEstimate], ...]  # (scale, mean peak score)


@dataclass(frozen=True, slots=True)
class Dashboard:
    instrument: str
    period_start: datetime
    period_end: datetime
    now: datetime
    filters: CohortFilters
    policy: CohortPolicy
    remission_criterion: RemissionCriterion | None
    started: int
    completed: int
    no_baseline: int
    time_points: tuple[TimePointResult, ...]
    breakdowns: tuple[Breakdown, ...]
    trajectory: tuple[TrajectoryPoint, ...]
    durability: tuple[Durability, ...]  # everyone first, then by each single-valued dimension
    responders_followed: int
    safety: tuple[SafetyRow, ...] = ()

    @property
    def policy_version(self) -> str:
        return self.policy.version

    @property
    def outcome_policy_version(self) -> str:
        return self.policy.outcome.version

    def time_point(self, key: str) -> TimePointResult:
        return next(r for r in self.time_points if r.time_point.key == key)

    def breakdown(self, dimension: Dimension) -> Breakdown:
        return next(b for b in self.breakdowns if b.dimension is dimension)

    def durability_by(self, dimension: Dimension | None) -> Durability:
        return next(d for d in self.durability if d.dimension is dimension)
