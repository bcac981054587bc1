"""The cohort dashboard's figures, computed in three pure steps (definitions: :mod:`.cohort`).

1. :func:`course_facts`: one course's facts as of a moment (its status, response and remission at
   each time point, the score before each session, its durability observation, its safety cells).
   Every fact stays true as time passes until the course's data change or its next dosing session
   starts, except "no score yet", which becomes *missing* when its window closes: that fact keeps
   the window's close, and :func:`tally` decides at ``now``. So facts can be kept (the cohorts app
   stores one row per course) and only the courses whose data changed recomputed.
2. :func:`tally`: counts over the facts of the courses in the cohort (the cohorts app's database
   aggregation produces the same :class:`CohortTallies` from its stored facts).
3. :func:`assemble`: the dashboard (intervals, breakdowns, curves, tests) from the tallies.

:func:`cohort_dashboard` runs the three on gathered courses.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum

from kapstone.clinical.checks import naive_times
from kapstone.clinical.cohort import (
    DEFAULT_COHORT_POLICY,
    NO_FILTERS,
    Anchor,
    Breakdown,
    CohortFilters,
    CohortInputError,
    CohortPolicy,
    Course,
    Dashboard,
    Dimension,
    Durability,
    DurabilityGroup,
    GroupRow,
    Pick,
    SafetyRow,
    SessionSafety,
    TimePointResult,
    TrajectoryPoint,
    references_for,
)
from kapstone.clinical.instruments.definition import SeverityBand
from kapstone.clinical.problems import Problem
from kapstone.clinical.statistics.errors import StatisticsInputError
from kapstone.clinical.statistics.logrank import LogRankTest, log_rank_test_counts
from kapstone.clinical.statistics.means import mean_interval_from_sums
from kapstone.clinical.statistics.proportions import (
    ProportionDifference,
    ProportionEstimate,
    proportion_difference,
    wilson_interval,
)
from kapstone.clinical.statistics.survival import kaplan_meier_counts

_DAY = timedelta(days=1)
# Raised whenever what course_facts computes changes, so facts kept by an earlier version are
# recomputed (the cohorts app's fingerprint includes it). 3: doses count from their charted time,
# not the booked start, and a signed record without a dose is no dose. 4: a course's route falls back
# to the route charted at the chair, its modalities to the integration sessions held.
FACTS_VERSION = 4
RESISTANT_LABELS = {None: "", True: "yes", False: "no"}


class PointStatus(IntEnum):
    """A course's state at a time point, as stored (the values are kept in the database)."""

    NO_BASELINE = 0
    NOT_COMPLETED = 1
    # No score in the window yet: missing once the window has closed, not yet due before.
    AWAITED = 2
    MEASURED = 3


@dataclass(frozen=True, slots=True)
class PointFact:
    status: PointStatus
    responded: bool = False
    remitted: bool = False
    closes: datetime | None = None  # the window's close, when AWAITED

    def resolved(self, now: datetime) -> str:
        """'no_baseline', 'not_completed', 'not_yet_due', 'missing' or 'measured' at ``now``."""
        if self.status is PointStatus.AWAITED:
            assert self.closes is not None
            return "missing" if now >= self.closes else "not_yet_due"
        return self.status.name.lower()


@dataclass(frozen=True, slots=True)
class Dissociation:
    scale: str
    ratings: int
    total: int
    squares: int


@dataclass(frozen=True, slots=True)
class SafetyCell:
    """A course's charted sessions of one route and dose band."""

    route: str
    dose_band: str
    sessions: int
    with_adverse_event: int
    with_moderate_or_severe: int
    dissociation: tuple[Dissociation, ...]  # each scale's session peaks: count, sum, squares


@dataclass(frozen=True, slots=True)
class CourseFacts:
    key: int
    first_dose: datetime
    site_id: int | None
    program: str
    route: str
    modalities: tuple[str, ...]
    conditions: tuple[str, ...]
    resistant: str  # "yes", "no", "" (not recorded)
    severity: str  # the baseline's severity band, "" when none
    usable_baseline: bool
    completed: bool
    points: tuple[PointFact, ...]  # one per policy time point, in the policy's order
    before_session: tuple[int | None, ...]  # score before session 1, 2, ... (1 = the baseline)
    durability: tuple[float, bool] | None  # (days from first response, lost?) for responders
    safety: tuple[SafetyCell, ...]


# --- 1. one course's facts --------------------------------------------------------------------


def course_facts(  # noqa: C901 (over the ceiling before it came in; to be split)
    course: Course,
    *,
    instrument: str,
    as_of: datetime,
    bands: Sequence[SeverityBand] = (),
    policy: CohortPolicy = DEFAULT_COHORT_POLICY,
) -> CourseFacts | None:
    """The course's facts as of ``as_of`` (None when no dose was held by then). ``course.doses``
    and ``course.scores`` may hold later moments; they are ignored."""
    doses = tuple(d for d in course.doses if d <= as_of)
    if not doses:
        return None
    scores = tuple(s for s in course.scores if s[0] <= as_of)
    outcome = policy.outcome
    remission = outcome.remission_for(instrument)
    reduction = outcome.response_min_reduction
    num, den = reduction.numerator, reduction.denominator
    first = doses[0]

    # Baseline: the last score at or before the first dose, within the allowed age.
    baseline: int | None = None
    oldest = first - policy.baseline_max_age
    for at, total in scores:
        if at > first:
            break
        if at >= oldest:
            baseline = total
    usable = baseline is not None and baseline > 0
    b = baseline or 0

    sessions = course.course_sessions
    done = sessions > 0 and len(doses) >= sessions
    end_anchor = doses[sessions - 1] if done else None
    maintenance = doses[sessions] if sessions > 0 and len(doses) > sessions else None

    def responded(total: int) -> bool:
        return (b - total) * den >= num * b

    points: list[PointFact] = []
    for tp in policy.time_points:
        if not usable:
            points.append(PointFact(PointStatus.NO_BASELINE))
            continue
        anchor = first if tp.anchor is Anchor.FIRST_DOSE else end_anchor
        if anchor is None:
            points.append(PointFact(PointStatus.NOT_COMPLETED))
            continue
        closes = anchor + tp.closes
        found = _pick(
            scores, anchor + tp.opens, min(closes, as_of), first, anchor + tp.target, tp.pick
        )
        if found is None:
            points.append(PointFact(PointStatus.AWAITED, closes=closes))
        else:
            points.append(
                PointFact(
                    PointStatus.MEASURED,
                    responded(found),
                    remission is not None and remission.met(found),
                )
            )

    # Trajectory: the score before each session (the baseline before the first). doses[j] is
    # session j + 1; a score after doses[j - 1] and at or before doses[j] is the one before
    # session j + 1 (the last such score wins).
    kept = policy.trajectory_sessions
    before: list[int | None] = [None] * kept
    before[0] = baseline
    j = 1
    limit = min(len(doses), kept)
    for at, total in scores:
        if at <= first:
            continue
        while j < limit and at > doses[j]:
            j += 1
        if j >= limit:
            break
        before[j] = total

    durability: tuple[float, bool] | None = None
    if usable:
        relapse = outcome.relapse
        followed = _loss_of_response(
            scores, first, maintenance, responded, relapse.consecutive_measures, relapse.min_span
        )
        if followed is not None:
            began, ended, lost = followed
            # Whole days, as visit-based durations are reported: the hour of a score is noise,
            # and the curves then have at most one step a day.
            durability = (float(math.floor((ended - began) / _DAY + 0.5)), lost)

    return CourseFacts(
        key=course.key,
        first_dose=first,
        site_id=course.site_id,
        program=course.program,
        route=course.route,
        modalities=course.modalities,
        conditions=course.conditions,
        resistant=RESISTANT_LABELS[course.treatment_resistant],
        severity=_band(bands, baseline) if baseline is not None else "",
        usable_baseline=usable,
        completed=done,
        points=tuple(points),
        before_session=tuple(before),
        durability=durability,
        safety=safety_cells(course.sessions, policy),
    )


def safety_cells(sessions: Iterable[SessionSafety], policy: CohortPolicy) -> tuple[SafetyCell, ...]:
    cells: dict[tuple[str, str], list[SessionSafety]] = {}
    bands: dict[float | None, str] = {}
    edges = policy.dose_band_edges
    for s in sessions:
        band = bands.get(s.dose_mg)
        if band is None:
            band = bands[s.dose_mg] = dose_band(s.dose_mg, edges)
        cells.setdefault((s.route, band), []).append(s)
    out: list[SafetyCell] = []
    for (route, band), group in sorted(cells.items()):
        peaks: dict[str, list[int]] = {}
        for s in group:
            for scale, score in s.dissociation:
                peaks.setdefault(scale, []).append(score)
        out.append(
            SafetyCell(
                route=route,
                dose_band=band,
                sessions=len(group),
                with_adverse_event=sum(1 for s in group if s.adverse_events),
                with_moderate_or_severe=sum(
                    1 for s in group if any(a in ("moderate", "severe") for a in s.adverse_events)
                ),
                dissociation=tuple(
                    Dissociation(scale, len(v), sum(v), sum(x * x for x in v))
                    for scale, v in sorted(peaks.items())
                ),
            )
        )
    return tuple(out)


def dose_band(dose_mg: float | None, edges: Sequence[int]) -> str:
    if dose_mg is None:
        return ""
    band = ""
    for i, edge in enumerate(edges):
        if dose_mg >= edge:
            upper = edges[i + 1] - 1 if i + 1 < len(edges) else None
            band = f"{edge}-{upper} mg" if upper is not None else f"{edge} mg or more"
    return band


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


# --- 2. tallies -------------------------------------------------------------------------------


@dataclass(slots=True)
class PointCounts:
    no_baseline: int = 0
    not_completed: int = 0
    not_yet_due: int = 0
    missing: int = 0
    measured: int = 0
    responders: int = 0
    remitters: int = 0

    @property
    def started(self) -> int:
        return (
            self.no_baseline + self.not_completed + self.not_yet_due + self.missing + self.measured
        )


# A breakdown cell: courses alike in every grouping value and in their outcome at the breakdown
# time point (measured, responded, remitted, conditions, program, route, modalities, resistant,
# severity).
CellKey = tuple[bool, bool, bool, tuple[str, ...], str, str, tuple[str, ...], str, str]
# Responders' durability, grouped: (program, route, resistant, severity, days, lost).
DurabilityKey = tuple[str, str, str, str, float, bool]


@dataclass(slots=True)
class CohortTallies:
    """Everything the dashboard needs, counted; filled by :func:`tally` or by a database."""

    points: list[PointCounts]
    trajectory_sessions: int
    started: int = 0
    completed: int = 0
    no_baseline: int = 0
    cells: dict[CellKey, int] = field(default_factory=dict)
    # Per session k (index k - 1): [scores, sum, sum of squares].
    trajectory: list[list[int]] = field(default_factory=list)
    durability: dict[DurabilityKey, int] = field(default_factory=dict)
    # (route, dose band) -> [sessions, with an adverse event, with a moderate or severe one]
    safety: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    # (route, dose band, scale) -> [ratings, sum, sum of squares]
    dissociation: dict[tuple[str, str, str], list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.trajectory:
            self.trajectory = [[0, 0, 0] for _ in range(self.trajectory_sessions)]

    @classmethod
    def empty(cls, policy: CohortPolicy) -> CohortTallies:
        return cls(
            points=[PointCounts() for _ in policy.time_points],
            trajectory_sessions=policy.trajectory_sessions,
        )


def tally(
    facts: Iterable[CourseFacts],
    *,
    now: datetime,
    period_start: datetime,
    period_end: datetime,
    filters: CohortFilters = NO_FILTERS,
    policy: CohortPolicy = DEFAULT_COHORT_POLICY,
) -> CohortTallies:
    """Counts over the courses whose first dose is in ``[period_start, period_end)``, at or
    before ``now``, and that pass the filters."""
    out = CohortTallies.empty(policy)
    breakdown = policy.breakdown_index
    for f in facts:
        first = f.first_dose
        if not period_start <= first < period_end or first > now or not filters.admits(f):
            continue
        out.started += 1
        out.completed += f.completed
        out.no_baseline += not f.usable_baseline
        for counts, point in zip(out.points, f.points, strict=True):
            state = point.resolved(now)
            setattr(counts, state, getattr(counts, state) + 1)
            if state == "measured":
                counts.responders += point.responded
                counts.remitters += point.remitted
        at = f.points[breakdown]
        measured = at.status is PointStatus.MEASURED
        key: CellKey = (
            measured,
            measured and at.responded,
            measured and at.remitted,
            f.conditions,
            f.program,
            f.route,
            f.modalities,
            f.resistant,
            f.severity,
        )
        out.cells[key] = out.cells.get(key, 0) + 1
        for k, score in enumerate(f.before_session):
            if score is not None:
                sums = out.trajectory[k]
                sums[0] += 1
                sums[1] += score
                sums[2] += score * score
        if f.durability is not None:
            days, lost = f.durability
            dkey: DurabilityKey = (f.program, f.route, f.resistant, f.severity, days, lost)
            out.durability[dkey] = out.durability.get(dkey, 0) + 1
        for cell in f.safety:
            counts3 = out.safety.setdefault((cell.route, cell.dose_band), [0, 0, 0])
            counts3[0] += cell.sessions
            counts3[1] += cell.with_adverse_event
            counts3[2] += cell.with_moderate_or_severe
            for d in cell.dissociation:
                sums3 = out.dissociation.setdefault(
                    (cell.route, cell.dose_band, d.scale), [0, 0, 0]
                )
                sums3[0] += d.ratings
                sums3[1] += d.total
                sums3[2] += d.squares
    return out


# --- 3. the dashboard -------------------------------------------------------------------------


def _proportion(successes: int, trials: int, confidence: float) -> ProportionEstimate | None:
    return wilson_interval(successes, trials, confidence=confidence) if trials else None


def validate(period_start: datetime, period_end: datetime, now: datetime, instrument: str) -> None:
    problems = naive_times(
        (("period_start", period_start), ("period_end", period_end), ("now", now)),
        "must be timezone-aware (got a naive datetime)",
    )
    if not problems and period_end <= period_start:
        problems.append(Problem("period_end", "must be after period_start"))
    if not instrument:
        problems.append(Problem("instrument", "must be named, e.g. 'phq9'"))
    CohortInputError.refuse_if_any(problems)


def assemble(
    tallies: CohortTallies,
    *,
    instrument: str,
    period_start: datetime,
    period_end: datetime,
    now: datetime,
    filters: CohortFilters = NO_FILTERS,
    policy: CohortPolicy = DEFAULT_COHORT_POLICY,
) -> Dashboard:
    """Every figure of the dashboard from the cohort's tallies."""
    validate(period_start, period_end, now, instrument)
    remission = policy.outcome.remission_for(instrument)
    confidence = policy.confidence

    groups: dict[Dimension, dict[str, list[int]]] = {d: {} for d in Dimension}
    total_at_breakdown = [0, 0, 0, 0]
    for (measured, responded_, remitted_, conds, prog, route, mods, resist, sev), n in sorted(
        tallies.cells.items()
    ):
        add = (n, n * measured, n * responded_, n * remitted_)
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

    # Responders' durability as counts at each day: day -> [losses, censored].
    survival_all: dict[float, list[int]] = {}
    survival_by: dict[Dimension, dict[str, dict[float, list[int]]]] = {
        d: {} for d in Dimension if not d.multi_valued
    }
    for (prog, route, resist, sev, days, lost), n in tallies.durability.items():
        slot = 0 if lost else 1
        survival_all.setdefault(days, [0, 0])[slot] += n
        for dimension, value in (
            (Dimension.PROGRAM, prog),
            (Dimension.ROUTE, route),
            (Dimension.TREATMENT_RESISTANT, resist),
            (Dimension.BASELINE_SEVERITY, sev),
        ):
            survival_by[dimension].setdefault(value, {}).setdefault(days, [0, 0])[slot] += n

    results = tuple(
        TimePointResult(
            time_point=tp,
            started=c.started,
            no_baseline=c.no_baseline,
            not_completed=c.not_completed,
            not_yet_due=c.not_yet_due,
            measured=c.measured,
            missing=c.missing,
            responders=c.responders,
            remitters=c.remitters,
            response=_proportion(c.responders, c.measured, confidence),
            remission=(
                _proportion(c.remitters, c.measured, confidence) if remission is not None else None
            ),
            response_missing_as_failure=_proportion(
                c.responders, c.measured + c.missing, confidence
            ),
            remission_missing_as_failure=(
                _proportion(c.remitters, c.measured + c.missing, confidence)
                if remission is not None
                else None
            ),
            references=references_for(tp.key),
        )
        for tp, c in zip(policy.time_points, tallies.points, strict=True)
    )
    breakdowns = tuple(
        _breakdown(d, groups[d], total_at_breakdown, policy, remission is not None)
        for d in Dimension
    )
    trajectory = tuple(
        TrajectoryPoint(k + 1, mean_interval_from_sums(n, total, squares, confidence=confidence))
        for k, (n, total, squares) in enumerate(tallies.trajectory)
        if n
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
        started=tallies.started,
        completed=tallies.completed,
        no_baseline=tallies.no_baseline,
        time_points=results,
        breakdowns=breakdowns,
        trajectory=trajectory,
        durability=durability,
        responders_followed=sum(a + b for a, b in survival_all.values()),
        safety=_safety(tallies, policy),
    )


def cohort_dashboard(
    courses: Iterable[Course],
    *,
    instrument: str,
    period_start: datetime,
    period_end: datetime,
    now: datetime,
    filters: CohortFilters = NO_FILTERS,
    bands: Sequence[SeverityBand] = (),
    policy: CohortPolicy = DEFAULT_COHORT_POLICY,
) -> Dashboard:
    """Every figure of the dashboard for the courses that start in the period and pass the filters.

    ``bands`` are the instrument's severity bands (for the baseline-severity breakdown). Courses
    may be given for any period: those starting outside it, or filtered out, are skipped.
    """
    validate(period_start, period_end, now, instrument)
    facts = (
        course_facts(c, instrument=instrument, as_of=now, bands=bands, policy=policy)
        for c in courses
        if c.doses and period_start <= c.doses[0] < period_end and filters.admits(c)
    )
    tallies = tally(
        (f for f in facts if f is not None),
        now=now,
        period_start=period_start,
        period_end=period_end,
        filters=filters,
        policy=policy,
    )
    return assemble(
        tallies,
        instrument=instrument,
        period_start=period_start,
        period_end=period_end,
        now=now,
        filters=filters,
        policy=policy,
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
    by_group: Mapping[str, Mapping[float, list[int]]],
    confidence: float,
) -> Durability:
    counts: dict[str, dict[float, tuple[int, int]]] = {
        value: {day: (lost, censored) for day, (lost, censored) in table.items()}
        for value, table in by_group.items()
        if table
    }
    groups = tuple(
        DurabilityGroup(
            group=value,
            responders=sum(a + b for a, b in counts[value].values()),
            losses=sum(a for a, _ in counts[value].values()),
            curve=kaplan_meier_counts(counts[value], confidence=confidence),
        )
        for value in sorted(counts, key=_sort_key)
    )
    log_rank: LogRankTest | None = None
    why = ""
    if dimension is None:
        why = "one group"
    elif len(groups) < 2:
        why = "fewer than two groups have a responder"
    else:
        try:
            log_rank = log_rank_test_counts(
                {g.group or "not recorded": counts[g.group] for g in groups}
            )
        except StatisticsInputError:
            why = "no loss of response while two groups were followed"
    if log_rank is not None and not math.isfinite(log_rank.p_value):
        log_rank, why = None, "the test could not be computed"
    return Durability(dimension, groups, log_rank, why)


def _safety(tallies: CohortTallies, policy: CohortPolicy) -> tuple[SafetyRow, ...]:
    """Rates per route and dose band: sessions with any adverse event, with a moderate or severe
    one, and the mean peak dissociation per scale (scales are never mixed)."""
    edges = policy.dose_band_edges
    confidence = policy.confidence

    def order(key: tuple[str, str]) -> tuple[bool, str, bool, int]:
        route, band = key
        start = int(band.split("-")[0].split(" ")[0]) if band else -1
        return (route == "", route, band == "", start if start >= 0 else max(edges) + 1)

    rows: list[SafetyRow] = []
    for key in sorted(tallies.safety, key=order):
        n, any_ae, serious = tallies.safety[key]
        rows.append(
            SafetyRow(
                route=key[0],
                dose_band=key[1],
                sessions=n,
                with_adverse_event=any_ae,
                with_moderate_or_severe=serious,
                adverse_event_rate=_proportion(any_ae, n, confidence),
                moderate_or_severe_rate=_proportion(serious, n, confidence),
                dissociation=tuple(
                    (
                        scale,
                        mean_interval_from_sums(ratings, total, squares, confidence=confidence),
                    )
                    for (route, band, scale), (ratings, total, squares) in sorted(
                        tallies.dissociation.items()
                    )
                    if (route, band) == key
                ),
            )
        )
    return tuple(rows)
