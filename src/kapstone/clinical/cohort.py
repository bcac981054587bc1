"""Program outcomes for a cohort of courses: the numbers behind the cohort dashboard (pure).

The shell gathers compact rows (one :class:`Course` per patient: dose times, one instrument's dated
totals, program, route, modalities, conditions, treatment resistance) and :func:`cohort_dashboard`
computes everything in one pass over them, so the whole computation can be tested without a
database and timed on a large network.

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
  the last score. Times are in days.

No identifiers enter: a course carries an opaque key, and every output is an aggregate.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from kapstone.clinical.instruments.definition import SeverityBand
from kapstone.clinical.outcomes import DEFAULT_OUTCOME_POLICY, OutcomePolicy, RemissionCriterion
from kapstone.clinical.provenance import Evidence, Source, Verification
from kapstone.clinical.statistics.errors import StatisticsInputError
from kapstone.clinical.statistics.logrank import LogRankTest, log_rank_test
from kapstone.clinical.statistics.means import MeanEstimate, mean_interval_from_sums
from kapstone.clinical.statistics.proportions import (
    ProportionDifference,
    ProportionEstimate,
    proportion_difference,
    wilson_interval,
)
from kapstone.clinical.statistics.survival import (
    SurvivalCurve,
    SurvivalObservation,
    kaplan_meier,
)

DEFAULT_COHORT_POLICY_VERSION = "default-2026-11"
_POLICY = Evidence.CLINIC_POLICY
_DAY = timedelta(days=1)
_HOUR = timedelta(hours=1)


# --- errors -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CohortProblem:
    field: str
    message: str


class CohortInputError(ValueError):
    def __init__(self, problems: tuple[CohortProblem, ...]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))


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
    "from the first response; censoring at maintenance is clinic policy",
)


DOSE_BAND_SOURCE = Source(
    "§3",
    Verification.UNVERIFIED,
    _POLICY,
    "bands of the total mg given in a session, for comparing rates only; not a dosing rule",
)


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
    # Lower edges of the dose bands, in mg given per session (whatever the route).
    dose_band_edges: tuple[int, ...] = (0, 25, 50, 75, 100)
    dose_band_source: Source = DOSE_BAND_SOURCE
    confidence: float = 0.95

    def __post_init__(self) -> None:
        problems: list[CohortProblem] = []
        keys = [t.key for t in self.time_points]
        if not keys:
            problems.append(CohortProblem("time_points", "at least one time point is needed"))
        for dup in sorted({k for k in keys if keys.count(k) > 1}):
            problems.append(CohortProblem("time_points", f"{dup!r} appears more than once"))
        for t in self.time_points:
            if not t.opens <= t.target <= t.closes:
                problems.append(
                    CohortProblem(f"time_points[{t.key}]", "the target must lie inside its window")
                )
        if self.breakdown_time_point not in keys:
            problems.append(
                CohortProblem("breakdown_time_point", f"{self.breakdown_time_point!r} is not one")
            )
        if self.baseline_max_age <= timedelta(0):
            problems.append(CohortProblem("baseline_max_age", "must be positive"))
        edges = self.dose_band_edges
        if not edges or edges[0] != 0 or any(b <= a for a, b in itertools.pairwise(edges)):
            problems.append(
                CohortProblem("dose_band_edges", "must start at 0 and rise, e.g. (0, 25, 50)")
            )
        if self.trajectory_sessions < 1:
            problems.append(CohortProblem("trajectory_sessions", "must be at least 1"))
        if not 0 < self.confidence < 1:
            problems.append(CohortProblem("confidence", "must be between 0 and 1, e.g. 0.95"))
        if problems:
            raise CohortInputError(tuple(problems))

    def time_point(self, key: str) -> TimePoint:
        return next(t for t in self.time_points if t.key == key)


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


@dataclass(frozen=True, slots=True)
class CohortFilters:
    site_id: int | None = None
    program: str | None = None
    modality: str | None = None
    route: str | None = None

    def admits(self, course: Course) -> bool:
        return (
            (self.site_id is None or course.site_id == self.site_id)
            and (self.program is None or course.program == self.program)
            and (self.route is None or course.route == self.route)
            and (self.modality is None or self.modality in course.modalities)
        )


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


# --- computation ------------------------------------------------------------------------------

_RESISTANT = {None: "", True: "yes", False: "no"}

# Per-course status at a time point.
_NO_BASELINE, _NOT_COMPLETED, _NOT_YET_DUE, _MISSING, _MEASURED = range(5)


@dataclass(slots=True)
class _Tally:
    started: int = 0
    no_baseline: int = 0
    not_completed: int = 0
    not_yet_due: int = 0
    measured: int = 0
    missing: int = 0
    responders: int = 0
    remitters: int = 0

    def add(self, status: int, responded: bool, remitted: bool) -> None:
        self.started += 1
        if status == _MEASURED:
            self.measured += 1
            self.responders += responded
            self.remitters += remitted
        elif status == _MISSING:
            self.missing += 1
        elif status == _NOT_YET_DUE:
            self.not_yet_due += 1
        elif status == _NOT_COMPLETED:
            self.not_completed += 1
        else:
            self.no_baseline += 1


def _proportion(successes: int, trials: int, confidence: float) -> ProportionEstimate | None:
    return wilson_interval(successes, trials, confidence=confidence) if trials else None


def _validate(period_start: datetime, period_end: datetime, now: datetime, instrument: str) -> None:
    problems: list[CohortProblem] = []
    for name, moment in (("period_start", period_start), ("period_end", period_end), ("now", now)):
        if moment.tzinfo is None or moment.utcoffset() is None:
            problems.append(CohortProblem(name, "must be timezone-aware (got a naive datetime)"))
    if not problems and period_end <= period_start:
        problems.append(CohortProblem("period_end", "must be after period_start"))
    if not instrument:
        problems.append(CohortProblem("instrument", "must be named, e.g. 'phq9'"))
    if problems:
        raise CohortInputError(tuple(problems))


def _band(bands: Sequence[SeverityBand], total: int) -> str:
    for band in bands:
        if band.low <= total <= band.high:
            return band.word
    return ""


def _pick(
    scores: Sequence[tuple[datetime, int]],
    opens: datetime,
    closes: datetime,
    after: datetime,
    target: datetime,
    pick: Pick,
) -> int | None:
    chosen: tuple[datetime, int] | None = None
    best = timedelta.max
    for at, total in scores:
        if at > closes:
            break
        if at < opens or at <= after:
            continue
        if pick is Pick.FIRST:
            return total
        if pick is Pick.LAST:
            chosen = (at, total)
        else:
            distance = abs(at - target)
            # Ties go to the later score (it comes second in time order).
            if distance <= best:
                best, chosen = distance, (at, total)
    return None if chosen is None else chosen[1]


def _loss_of_response(
    scores: Sequence[tuple[datetime, int]],
    first_dose: datetime,
    until: datetime | None,
    responded: Callable[[int], bool],
    consecutive: int,
    min_span: timedelta,
) -> tuple[datetime, datetime, bool] | None:
    """(first response, end of follow-up or loss, lost?) or None if never responded."""
    first_response: datetime | None = None
    last_seen: datetime | None = None
    run: list[datetime] = []
    for at, total in scores:
        if at <= first_dose:
            continue
        if until is not None and at >= until:
            break
        if first_response is None:
            if responded(total):
                first_response = last_seen = at
            continue
        last_seen = at
        if responded(total):
            run = []
            continue
        run.append(at)
        if len(run) >= consecutive and run[-1] - run[0] >= min_span:
            return first_response, at, True
    if first_response is None or last_seen is None:
        return None
    return first_response, last_seen, False


def cohort_dashboard(
    courses: Iterable[Course],
    *,
    instrument: str,
    period_start: datetime,
    period_end: datetime,
    now: datetime,
    filters: CohortFilters = CohortFilters(),
    bands: Sequence[SeverityBand] = (),
    policy: CohortPolicy = DEFAULT_COHORT_POLICY,
) -> Dashboard:
    """Every figure of the dashboard for the courses that start in the period and pass the filters.

    ``bands`` are the instrument's severity bands (for the baseline-severity breakdown). Courses
    may be given for any period: those starting outside it, or filtered out, are skipped.
    """
    _validate(period_start, period_end, now, instrument)
    outcome = policy.outcome
    remission = outcome.remission_for(instrument)
    reduction = outcome.response_min_reduction
    num, den = reduction.numerator, reduction.denominator
    confidence = policy.confidence
    time_points = policy.time_points
    breakdown_index = next(
        i for i, t in enumerate(time_points) if t.key == policy.breakdown_time_point
    )
    max_age = policy.baseline_max_age
    sessions_kept = policy.trajectory_sessions
    relapse = outcome.relapse

    tallies = [_Tally() for _ in time_points]
    # Per dimension: group value -> [patients, measured, responders, remitters] at the breakdown.
    groups: dict[Dimension, dict[str, list[int]]] = {d: {} for d in Dimension}
    total_at_breakdown = [0, 0, 0, 0]
    traj_n = [0] * (sessions_kept + 1)
    traj_sum = [0] * (sessions_kept + 1)
    traj_squares = [0] * (sessions_kept + 1)
    survival_all: list[SurvivalObservation] = []
    survival_by: dict[Dimension, dict[str, list[SurvivalObservation]]] = {
        d: {} for d in Dimension if not d.multi_valued
    }
    started = completed = no_baseline = 0
    chosen_sessions: list[SessionSafety] = []
    cells: dict[tuple[Any, ...], int] = {}

    for course in courses:
        doses = course.doses
        if not doses:
            continue
        first = doses[0]
        if not period_start <= first < period_end or first > now:
            continue
        if not filters.admits(course):
            continue
        started += 1
        scores = course.scores
        chosen_sessions.extend(course.sessions)

        # Baseline: the last score at or before the first dose, within the allowed age.
        baseline: int | None = None
        oldest = first - max_age
        for at, total in scores:
            if at > first:
                break
            if at >= oldest:
                baseline = total
        usable = baseline is not None and baseline > 0
        if not usable:
            no_baseline += 1
        b = baseline or 0

        sessions = course.course_sessions
        done = sessions > 0 and len(doses) >= sessions
        completed += done
        end_anchor = doses[sessions - 1] if done else None
        maintenance = doses[sessions] if sessions > 0 and len(doses) > sessions else None

        def responded(total: int, b: int = b) -> bool:
            return (b - total) * den >= num * b

        breakdown_status = _NO_BASELINE
        breakdown_responded = breakdown_remitted = False
        for index, tp in enumerate(time_points):
            responded_here = remitted_here = False
            if not usable:
                status = _NO_BASELINE
            else:
                anchor = first if tp.anchor is Anchor.FIRST_DOSE else end_anchor
                if anchor is None:
                    status = _NOT_COMPLETED
                else:
                    closes = anchor + tp.closes
                    found = _pick(
                        scores,
                        anchor + tp.opens,
                        min(closes, now),
                        first,
                        anchor + tp.target,
                        tp.pick,
                    )
                    if found is not None:
                        status = _MEASURED
                        responded_here = responded(found)
                        remitted_here = remission is not None and remission.met(found)
                    elif now >= closes:
                        status = _MISSING
                    else:
                        status = _NOT_YET_DUE
            tallies[index].add(status, responded_here, remitted_here)
            if index == breakdown_index:
                breakdown_status = status
                breakdown_responded, breakdown_remitted = responded_here, remitted_here

        # Breakdowns at the breakdown time point: courses alike in every grouping value and
        # outcome collapse into one counter cell here; groups are summed from the cells after
        # the loop (far fewer cells than courses on a large network).
        resistant = _RESISTANT[course.treatment_resistant]
        severity = _band(bands, baseline) if baseline is not None else ""
        signature = (
            breakdown_status == _MEASURED,
            breakdown_responded,
            breakdown_remitted,
            course.conditions,
            course.program,
            course.route,
            course.modalities,
            resistant,
            severity,
        )
        cells[signature] = cells.get(signature, 0) + 1

        # Trajectory: the score before each session (the baseline before the first).
        if baseline is not None:
            traj_n[1] += 1
            traj_sum[1] += baseline
            traj_squares[1] += baseline * baseline
        # doses[j] is session j + 1; a score after doses[j - 1] and at or before doses[j] is
        # the one before session j + 1 (the last such score wins).
        before: dict[int, int] = {}
        j = 1
        limit = min(len(doses), sessions_kept)
        for at, total in scores:
            if at <= first:
                continue
            while j < limit and at > doses[j]:
                j += 1
            if j >= limit:
                break
            before[j] = total
        for j, total in before.items():
            traj_n[j + 1] += 1
            traj_sum[j + 1] += total
            traj_squares[j + 1] += total * total

        # Durability of response.
        if usable:
            followed = _loss_of_response(
                scores,
                first,
                maintenance,
                responded,
                relapse.consecutive_measures,
                relapse.min_span,
            )
            if followed is not None:
                began, ended, lost = followed
                observation = SurvivalObservation((ended - began) / _DAY, lost)
                survival_all.append(observation)
                for dimension, value in (
                    (Dimension.PROGRAM, course.program),
                    (Dimension.ROUTE, course.route),
                    (Dimension.TREATMENT_RESISTANT, resistant),
                    (Dimension.BASELINE_SEVERITY, severity),
                ):
                    survival_by[dimension].setdefault(value, []).append(observation)

    for (
        measured,
        responded_,
        remitted_,
        conds,
        prog,
        route,
        mods,
        resist,
        sev,
    ), count in cells.items():
        add = (count, count * measured, count * responded_, count * remitted_)
        for i in range(4):
            total_at_breakdown[i] += add[i]
        values: tuple[tuple[Dimension, tuple[str, ...]], ...] = (
            (Dimension.CONDITION, conds or ("",)),
            (Dimension.PROGRAM, (prog,)),
            (Dimension.ROUTE, (route,)),
            (Dimension.MODALITY, mods or ("",)),
            (Dimension.TREATMENT_RESISTANT, (resist,)),
            (Dimension.BASELINE_SEVERITY, (sev,)),
        )
        for dimension, keys in values:
            table = groups[dimension]
            for key in dict.fromkeys(keys):
                cell = table.setdefault(key, [0, 0, 0, 0])
                for i in range(4):
                    cell[i] += add[i]
    safety = _safety(chosen_sessions, policy)
    results = tuple(
        TimePointResult(
            time_point=tp,
            started=t.started,
            no_baseline=t.no_baseline,
            not_completed=t.not_completed,
            not_yet_due=t.not_yet_due,
            measured=t.measured,
            missing=t.missing,
            responders=t.responders,
            remitters=t.remitters,
            response=_proportion(t.responders, t.measured, confidence),
            remission=(
                _proportion(t.remitters, t.measured, confidence) if remission is not None else None
            ),
            response_missing_as_failure=_proportion(
                t.responders, t.measured + t.missing, confidence
            ),
            remission_missing_as_failure=(
                _proportion(t.remitters, t.measured + t.missing, confidence)
                if remission is not None
                else None
            ),
            references=references_for(tp.key),
        )
        for tp, t in zip(time_points, tallies, strict=True)
    )
    breakdowns = tuple(
        _breakdown(d, groups[d], total_at_breakdown, policy, remission is not None)
        for d in Dimension
    )
    trajectory = tuple(
        TrajectoryPoint(
            k,
            mean_interval_from_sums(traj_n[k], traj_sum[k], traj_squares[k], confidence=confidence),
        )
        for k in range(1, sessions_kept + 1)
        if traj_n[k]
    )
    durability = (
        _durability(None, {"": survival_all}, confidence),
        *(_durability(d, by, confidence) for d, by in survival_by.items()),
    )
    return Dashboard(
        instrument=instrument,
        period_start=period_start,
        period_end=period_end,
        now=now,
        filters=filters,
        policy=policy,
        remission_criterion=remission,
        started=started,
        completed=completed,
        no_baseline=no_baseline,
        time_points=results,
        breakdowns=breakdowns,
        trajectory=trajectory,
        durability=durability,
        responders_followed=len(survival_all),
        safety=safety,
    )


def _sort_key(value: str) -> tuple[bool, str]:
    return (value == "", value)  # "not recorded" last


def _breakdown(
    dimension: Dimension,
    table: Mapping[str, list[int]],
    total: Sequence[int],
    policy: CohortPolicy,
    has_remission: bool,
) -> Breakdown:
    confidence = policy.confidence
    rows: list[GroupRow] = []
    for value in sorted(table, key=_sort_key):
        patients, measured, responders, remitters = table[value]
        rest_measured = total[1] - measured
        rest_responders = total[2] - responders
        versus: ProportionDifference | None = None
        if measured and rest_measured:
            versus = proportion_difference(
                responders, measured, rest_responders, rest_measured, confidence=confidence
            )
        rows.append(
            GroupRow(
                group=value,
                patients=patients,
                measured=measured,
                responders=responders,
                remitters=remitters,
                response=_proportion(responders, measured, confidence),
                remission=_proportion(remitters, measured, confidence) if has_remission else None,
                versus_rest=versus,
            )
        )
    return Breakdown(dimension, policy.breakdown_time_point, tuple(rows))


def _durability(
    dimension: Dimension | None,
    by_group: Mapping[str, Sequence[SurvivalObservation]],
    confidence: float,
) -> Durability:
    groups = tuple(
        DurabilityGroup(
            group=value,
            responders=len(observations),
            losses=sum(o.event for o in observations),
            curve=kaplan_meier(observations, confidence=confidence),
        )
        for value in sorted(by_group, key=_sort_key)
        if (observations := by_group[value])
    )
    log_rank: LogRankTest | None = None
    why = ""
    if dimension is None:
        why = "one group"
    elif len(groups) < 2:
        why = "fewer than two groups have a responder"
    else:
        try:
            log_rank = log_rank_test({g.group or "not recorded": by_group[g.group] for g in groups})
        except StatisticsInputError:
            why = "no loss of response while two groups were followed"
    if log_rank is not None and not math.isfinite(log_rank.p_value):
        log_rank, why = None, "the test could not be computed"
    return Durability(dimension, groups, log_rank, why)


def dose_band(dose_mg: float | None, edges: Sequence[int]) -> str:
    if dose_mg is None:
        return ""
    band = ""
    for i, edge in enumerate(edges):
        if dose_mg >= edge:
            upper = edges[i + 1] - 1 if i + 1 < len(edges) else None
            band = f"{edge}-{upper} mg" if upper is not None else f"{edge} mg or more"
    return band


def _safety(sessions: Sequence[SessionSafety], policy: CohortPolicy) -> tuple[SafetyRow, ...]:
    """Rates per route and dose band: sessions with any adverse event, with a moderate or severe
    one, and the mean peak dissociation per scale (scales are never mixed)."""
    cells: dict[tuple[str, str], list[SessionSafety]] = {}
    for s in sessions:
        key = (s.route, dose_band(s.dose_mg, policy.dose_band_edges))
        cells.setdefault(key, []).append(s)
    rows: list[SafetyRow] = []
    edges = policy.dose_band_edges

    def order(key: tuple[str, str]) -> tuple[bool, str, bool, int]:
        route, band = key
        start = int(band.split("-")[0].split(" ")[0]) if band else -1
        return (route == "", route, band == "", start if start >= 0 else max(edges) + 1)

    for key in sorted(cells, key=order):
        group = cells[key]
        n = len(group)
        any_ae = sum(1 for s in group if s.adverse_events)
        serious = sum(
            1 for s in group if any(a in ("moderate", "severe") for a in s.adverse_events)
        )
        peaks: dict[str, list[int]] = {}
        for s in group:
            for scale, score in s.dissociation:
                peaks.setdefault(scale, []).append(score)
        rows.append(
            SafetyRow(
                route=key[0],
                dose_band=key[1],
                sessions=n,
                with_adverse_event=any_ae,
                with_moderate_or_severe=serious,
                adverse_event_rate=_proportion(any_ae, n, policy.confidence),
                moderate_or_severe_rate=_proportion(serious, n, policy.confidence),
                dissociation=tuple(
                    (
                        scale,
                        mean_interval_from_sums(
                            len(v), sum(v), sum(x * x for x in v), confidence=policy.confidence
                        ),
                    )
                    for scale, v in sorted(peaks.items())
                ),
            )
        )
    return tuple(rows)
