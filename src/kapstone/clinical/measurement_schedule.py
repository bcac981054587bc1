"""Which questionnaires are due when: a care plan's measurement plan turned into dated occurrences.

``measurement_schedule`` is a pure function of the plan, the anchors (intake, dosing sessions, end
of course), each instrument's recall period, the measures already completed, the policy and ``now``.

Each rule yields occurrences at ``anchor + offset (+ k · repeat_every)``. An occurrence opens
``window_opens_before`` its target, is *due* until ``due_until_after`` the target, then
*overdue* until ``expires_after`` the target, then *expired*; before it opens it is *upcoming*. A
completion of the same instrument inside [opens, expires) makes it *completed* (late if after the
due window).
Completions are matched earliest-deadline-first, each to one occurrence.

Recall periods: an instrument asks about the last N days, so repeating it sooner double-counts the
same days. Per instrument, occurrences of *priority* rules (baseline at intake, end of course) are
placed first, in target order, each kept unless it falls within the minimum interval (recall x
policy fraction) of one already kept; the other occurrences then fill in, in target order, under
the same test against every kept one. A suppressed occurrence records why, the occurrence that
limits it, and the short-interval measures the clinic can use instead. Spacing is judged on planned
targets, never on completion times, so completing a measure cannot reshuffle what is due; an
occurrence that expired unanswered still counts for spacing (the work queue shows it as expired so
staff can give it ad hoc). Exact duplicates (same instrument, same target) are suppressed for every
instrument.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from fractions import Fraction

from kapstone.clinical.checks import is_naive
from kapstone.clinical.problems import Problem, Refused
from kapstone.clinical.provenance import Evidence, Source, Verification

DEFAULT_POLICY_VERSION = "default-2026-11"


class ScheduleInputError(Refused):
    """Bad plan, anchors, recalls or completions; ``problems`` lists every one found."""


class Anchor(StrEnum):
    INTAKE = "intake"
    EACH_DOSE = "each_dose"
    END_OF_COURSE = "end_of_course"
    AFTER_COURSE = "after_course"


class MeasureStatus(StrEnum):
    UPCOMING = "upcoming"
    DUE = "due"
    OVERDUE = "overdue"
    COMPLETED = "completed"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class MeasureRule:
    instrument: str
    anchor: Anchor
    label: str
    source: Source
    offset: timedelta = timedelta(0)
    window_opens_before: timedelta = timedelta(0)
    due_until_after: timedelta = timedelta(days=3)
    expires_after: timedelta = timedelta(days=7)
    repeat_every: timedelta | None = None
    repeat_count: int = 1
    dose_numbers: frozenset[int] | None = None  # EACH_DOSE only, 1-based; None = every dose
    priority: bool = False  # placed before other rules when recall spacing must choose

    def problems(self, where: str) -> list[Problem]:
        found: list[Problem] = []

        def bad(name: str, message: str) -> None:
            found.append(Problem(f"{where}.{name}", message))

        if not self.instrument:
            bad("instrument", "must be a name such as 'phq9'")
        if not self.label:
            bad("label", "must describe the occurrence, e.g. 'before dose'")
        if self.window_opens_before < timedelta(0):
            bad("window_opens_before", "must not be negative")
        if self.due_until_after < timedelta(0):
            bad("due_until_after", "must not be negative")
        if self.expires_after < self.due_until_after:
            bad("expires_after", "must be at or after due_until_after")
        if self.window_opens_before + self.expires_after <= timedelta(0):
            bad("expires_after", "the window [opens, expires) is empty")
        if self.repeat_count < 1:
            bad("repeat_count", f"{self.repeat_count}: accepts 1 or more")
        if self.repeat_count > 1 and (
            self.repeat_every is None or self.repeat_every <= timedelta(0)
        ):
            bad("repeat_every", "a positive interval is needed when repeat_count > 1")
        if self.dose_numbers is not None:
            if self.anchor is not Anchor.EACH_DOSE:
                bad("dose_numbers", "only applies to the each_dose anchor")
            if any(n < 1 for n in self.dose_numbers):
                bad("dose_numbers", "dose numbers start at 1")
        return found


@dataclass(frozen=True, slots=True)
class MeasurementPlan:
    name: str
    version: str
    rules: tuple[MeasureRule, ...]
    source: Source

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        for i, rule in enumerate(self.rules):
            problems += rule.problems(f"rules[{i}]")
        keys = [(r.instrument, r.label) for r in self.rules]
        for key in sorted({k for k in keys if keys.count(k) > 1}):
            problems.append(Problem("rules", f"{key[0]} has two rules labelled {key[1]!r}"))
        ScheduleInputError.refuse_if_any(problems)


@dataclass(frozen=True, slots=True)
class InstrumentRecall:
    """What the schedule needs to know of an instrument (from the instrument library)."""

    instrument: str
    display_name: str
    recall_days: int  # 0 = rates the present state
    source: Source


@dataclass(frozen=True, slots=True)
class CompletedMeasure:
    instrument: str
    at: datetime


_POLICY = Evidence.CLINIC_POLICY

MIN_INTERVAL_SOURCE = Source(
    "§4",
    Verification.UNVERIFIED,
    _POLICY,
    "minimum interval = recall period: repeating sooner re-asks about the same days",
)
EXEMPT_SOURCE = Source(
    "§4.4",
    Verification.UNVERIFIED,
    _POLICY,
    "suicide-risk screening is never suppressed for recall; the C-SSRS screener's past-month "
    "wording on repeat use is to be confirmed with Columbia",
)
SHORT_INTERVAL_SOURCE = Source(
    "§4.7",
    Verification.UNVERIFIED,
    _POLICY,
    "clinician-rated MADRS rated at 24 h as in ketamine trials; the reference gives no MADRS "
    "recall period - confirm",
)


@dataclass(frozen=True, slots=True)
class SchedulePolicy:
    version: str = DEFAULT_POLICY_VERSION
    min_interval_fraction: Fraction = Fraction(1)
    min_interval_source: Source = MIN_INTERVAL_SOURCE
    exempt_instruments: frozenset[str] = frozenset({"cssrs_screen"})
    exempt_source: Source = EXEMPT_SOURCE
    short_interval_instruments: tuple[str, ...] = ("madrs",)
    short_interval_source: Source = SHORT_INTERVAL_SOURCE

    def __post_init__(self) -> None:
        if not Fraction(0) <= self.min_interval_fraction <= Fraction(1):
            raise ScheduleInputError(
                (
                    Problem(
                        "min_interval_fraction",
                        f"{self.min_interval_fraction}: accepts 0 to 1 (1 = the full recall)",
                    ),
                )
            )

    def min_interval(self, recall: InstrumentRecall) -> timedelta:
        if recall.instrument in self.exempt_instruments:
            return timedelta(0)
        return timedelta(days=recall.recall_days) * float(self.min_interval_fraction)


DEFAULT_SCHEDULE_POLICY = SchedulePolicy()


@dataclass(frozen=True, slots=True)
class MeasureOccurrence:
    instrument: str
    rule_label: str
    anchor: Anchor
    sequence: int  # dose number for each_dose, else the repeat number, from 1
    target_at: datetime
    opens_at: datetime
    closes_at: datetime
    expires_at: datetime
    status: MeasureStatus
    completed_at: datetime | None
    completed_late: bool
    source: Source


@dataclass(frozen=True, slots=True)
class SuppressedMeasure:
    instrument: str
    rule_label: str
    anchor: Anchor
    sequence: int
    target_at: datetime
    reason: str
    limited_by_label: str
    limited_by_at: datetime
    min_interval: timedelta
    next_allowed_at: datetime  # limited_by_at + min_interval
    alternatives: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MeasurementSchedule:
    plan_name: str
    plan_version: str
    policy_version: str
    now: datetime
    occurrences: tuple[MeasureOccurrence, ...]
    suppressed: tuple[SuppressedMeasure, ...]

    def with_status(self, *statuses: MeasureStatus) -> tuple[MeasureOccurrence, ...]:
        return tuple(o for o in self.occurrences if o.status in statuses)

    @property
    def work_queue(self) -> tuple[MeasureOccurrence, ...]:
        """Overdue and expired measures, for staff to chase or replace."""
        return self.with_status(MeasureStatus.OVERDUE, MeasureStatus.EXPIRED)


@dataclass(frozen=True, slots=True)
class _Candidate:
    rule_index: int
    rule: MeasureRule
    sequence: int
    target_at: datetime

    @property
    def opens_at(self) -> datetime:
        return self.target_at - self.rule.window_opens_before

    @property
    def closes_at(self) -> datetime:
        return self.target_at + self.rule.due_until_after

    @property
    def expires_at(self) -> datetime:
        return self.target_at + self.rule.expires_after


def _validate(
    plan: MeasurementPlan,
    intake_at: datetime,
    dosing_sessions: Sequence[datetime],
    end_of_course: datetime | None,
    recalls: Sequence[InstrumentRecall],
    completed: Sequence[CompletedMeasure],
    now: datetime,
) -> None:
    problems: list[Problem] = []
    naive = "must be timezone-aware (got a naive datetime)"
    for name, at in (("intake_at", intake_at), ("now", now), ("end_of_course", end_of_course)):
        if at is not None and is_naive(at):
            problems.append(Problem(name, naive))
    for i, at in enumerate(dosing_sessions):
        if is_naive(at):
            problems.append(Problem(f"dosing_sessions[{i}]", naive))
        elif dosing_sessions.index(at) != i:
            problems.append(Problem(f"dosing_sessions[{i}]", "duplicate session time"))
    names = [r.instrument for r in recalls]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append(Problem("recalls", f"{dup} is given more than once"))
    for i, recall in enumerate(recalls):
        if recall.recall_days < 0:
            problems.append(
                Problem(f"recalls[{i}].recall_days", "accepts 0 (present state) or more")
            )
    for instrument in sorted({r.instrument for r in plan.rules} - set(names)):
        problems.append(
            Problem("recalls", f"no recall period given for {instrument}, used by the plan")
        )
    for i, done in enumerate(completed):
        if is_naive(done.at):
            problems.append(Problem(f"completed[{i}].at", naive))
        elif not is_naive(now) and done.at > now:
            problems.append(
                Problem(f"completed[{i}].at", "is after now; completions are in the past")
            )
    if (
        end_of_course is not None
        and not is_naive(end_of_course)
        and dosing_sessions
        and all(not is_naive(d) for d in dosing_sessions)
        and end_of_course < min(dosing_sessions)
    ):
        problems.append(Problem("end_of_course", "is before the first dosing session"))
    ScheduleInputError.refuse_if_any(problems)


def _candidates(
    plan: MeasurementPlan,
    intake_at: datetime,
    doses: Sequence[datetime],
    end_of_course: datetime | None,
) -> list[_Candidate]:
    out: list[_Candidate] = []
    for index, rule in enumerate(plan.rules):
        if rule.anchor is Anchor.EACH_DOSE:
            anchors = [
                (n, at)
                for n, at in enumerate(doses, start=1)
                if rule.dose_numbers is None or n in rule.dose_numbers
            ]
        elif rule.anchor is Anchor.INTAKE:
            anchors = [(1, intake_at)]
        else:
            anchors = [] if end_of_course is None else [(1, end_of_course)]
        for number, anchor_at in anchors:
            for k in range(rule.repeat_count):
                step = rule.repeat_every * k if rule.repeat_every is not None else timedelta(0)
                sequence = number if rule.anchor is Anchor.EACH_DOSE else k + 1
                out.append(_Candidate(index, rule, sequence, anchor_at + rule.offset + step))
    return out


def _format_gap(gap: timedelta) -> str:
    hours = gap.total_seconds() / 3600
    if hours < 24:
        return f"{hours:g} hours" if hours != 1 else "1 hour"
    days = round(hours / 24, 1)
    return "1 day" if days == 1 else f"{days:g} days"


def _recall_phrase(days: int) -> str:
    if days == 1:
        return "day"
    if days == 7:
        return "week"
    if days % 7 == 0:
        return f"{days // 7} weeks"
    return f"{days} days"


def measurement_schedule(
    plan: MeasurementPlan,
    *,
    intake_at: datetime,
    dosing_sessions: Sequence[datetime],
    end_of_course: datetime | None,
    recalls: Sequence[InstrumentRecall],
    completed: Sequence[CompletedMeasure],
    now: datetime,
    policy: SchedulePolicy = DEFAULT_SCHEDULE_POLICY,
) -> MeasurementSchedule:
    """Every occurrence the plan calls for, with its status at ``now``, and every suppression."""
    _validate(plan, intake_at, dosing_sessions, end_of_course, recalls, completed, now)
    recall_of = {r.instrument: r for r in recalls}
    doses = sorted(dosing_sessions)
    candidates = _candidates(plan, intake_at, doses, end_of_course)

    kept: list[_Candidate] = []
    suppressed_by: list[tuple[_Candidate, _Candidate]] = []
    for instrument in sorted({c.rule.instrument for c in candidates}):
        min_interval = policy.min_interval(recall_of[instrument])
        own_kept: list[_Candidate] = []
        own = sorted(
            (c for c in candidates if c.rule.instrument == instrument),
            key=lambda c: (not c.rule.priority, c.target_at, c.rule_index, c.sequence),
        )
        for candidate in own:
            limit = _limiting(candidate, own_kept, min_interval)
            if limit is not None:
                suppressed_by.append((candidate, limit))
            else:
                own_kept.append(candidate)
        kept += own_kept

    completion_of = _match_completions(kept, completed)

    occurrences = []
    for c in kept:
        done = completion_of.get(id(c))
        if done is not None:
            status = MeasureStatus.COMPLETED
        elif now < c.opens_at:
            status = MeasureStatus.UPCOMING
        elif now < c.closes_at:
            status = MeasureStatus.DUE
        elif now < c.expires_at:
            status = MeasureStatus.OVERDUE
        else:
            status = MeasureStatus.EXPIRED
        occurrences.append(
            MeasureOccurrence(
                instrument=c.rule.instrument,
                rule_label=c.rule.label,
                anchor=c.rule.anchor,
                sequence=c.sequence,
                target_at=c.target_at,
                opens_at=c.opens_at,
                closes_at=c.closes_at,
                expires_at=c.expires_at,
                status=status,
                completed_at=done,
                completed_late=done is not None and done >= c.closes_at,
                source=c.rule.source,
            )
        )
    occurrences.sort(
        key=lambda o: (o.target_at, o.opens_at, o.instrument, o.rule_label, o.sequence)
    )

    suppressed = [
        _suppression(c, prev, recall_of[c.rule.instrument], completion_of.get(id(prev)), policy)
        for c, prev in suppressed_by
    ]
    suppressed.sort(key=lambda s: (s.target_at, s.instrument, s.rule_label, s.sequence))
    return MeasurementSchedule(
        plan_name=plan.name,
        plan_version=plan.version,
        policy_version=policy.version,
        now=now,
        occurrences=tuple(occurrences),
        suppressed=tuple(suppressed),
    )


def _limiting(
    candidate: _Candidate, kept: Sequence[_Candidate], min_interval: timedelta
) -> _Candidate | None:
    """The nearest kept occurrence too close to the candidate (the earlier one on a tie)."""
    clashes = [
        k
        for k in kept
        if k.target_at == candidate.target_at
        or abs(k.target_at - candidate.target_at) < min_interval
    ]
    return min(
        clashes,
        key=lambda k: (abs(k.target_at - candidate.target_at), k.target_at, k.rule_index),
        default=None,
    )


def _match_completions(
    kept: Sequence[_Candidate], completed: Sequence[CompletedMeasure]
) -> dict[int, datetime]:
    """Earliest deadline first, each taking the earliest unused completion inside its window."""
    matched: dict[int, datetime] = {}
    for instrument in sorted({c.rule.instrument for c in kept}):
        pool = sorted(d.at for d in completed if d.instrument == instrument)
        used = [False] * len(pool)
        own = sorted(
            (c for c in kept if c.rule.instrument == instrument),
            key=lambda c: (c.expires_at, c.opens_at, c.rule_index, c.sequence),
        )
        for c in own:
            for i, at in enumerate(pool):
                if not used[i] and c.opens_at <= at < c.expires_at:
                    used[i] = True
                    matched[id(c)] = at
                    break
    return matched


def _suppression(
    candidate: _Candidate,
    limit: _Candidate,
    recall: InstrumentRecall,
    limit_done: datetime | None,
    policy: SchedulePolicy,
) -> SuppressedMeasure:
    min_interval = policy.min_interval(recall)
    name = recall.display_name
    when = limit_done if limit_done is not None else limit.target_at
    stamp = f"{when:%Y-%m-%d %H:%M %Z}".strip()
    if candidate.target_at == limit.target_at:
        reason = f"{name} is already scheduled at this time ({limit.rule.label})"
    elif limit.target_at < candidate.target_at:
        verb = "given" if limit_done is not None else "scheduled"
        gap = candidate.target_at - when
        relation = f"{_format_gap(gap)} before" if gap > timedelta(0) else "after this time"
        reason = (
            f"{name} asks about the last {_recall_phrase(recall.recall_days)}; "
            f"last {verb} {relation} ({limit.rule.label}, {stamp})"
        )
    else:
        gap = limit.target_at - candidate.target_at
        reason = (
            f"{name} asks about the last {_recall_phrase(recall.recall_days)}; the "
            f"{limit.rule.label} {name} {_format_gap(gap)} later ({stamp}) covers these days"
        )
    return SuppressedMeasure(
        instrument=candidate.rule.instrument,
        rule_label=candidate.rule.label,
        anchor=candidate.rule.anchor,
        sequence=candidate.sequence,
        target_at=candidate.target_at,
        reason=reason,
        limited_by_label=limit.rule.label,
        limited_by_at=limit.target_at,
        min_interval=min_interval,
        next_allowed_at=limit.target_at + min_interval,
        alternatives=tuple(
            i for i in policy.short_interval_instruments if i != candidate.rule.instrument
        ),
    )


# --- default plans -------------------------------------------------------------------------

_CADENCE = Source(
    "§5",
    Verification.UNVERIFIED,
    _POLICY,
    "measurement cadence is clinic policy (measurement-based care for §5 outcomes)",
)
_END_OF_COURSE = Source(
    "SPRAVATO-US",
    Verification.VERIFIED,
    _POLICY,
    "label: evaluate benefit at the end of induction (§3); the instruments are clinic policy",
)
_AT_24H = Source(
    "HAN2016",
    Verification.VERIFIED,
    _POLICY,
    "24 h is the meta-analytic response time point (§6.1); rating it with MADRS is clinic policy",
)
_SAFETY = Source(
    "§4.4",
    Verification.UNVERIFIED,
    _POLICY,
    "suicide-risk screen before every dose is clinic policy",
)
_FOLLOW_UP = Source(
    "§5",
    Verification.UNVERIFIED,
    _POLICY,
    "watching for relapse after remission (§5 relapse framework); weekly then monthly cadence "
    "is clinic policy",
)

_D = timedelta(days=1)
_H = timedelta(hours=1)


def _intake(instrument: str) -> MeasureRule:
    return MeasureRule(
        instrument,
        Anchor.INTAKE,
        "intake",
        _CADENCE,
        due_until_after=3 * _D,
        expires_after=14 * _D,
        priority=True,
    )


def _before_dose(instrument: str, source: Source = _CADENCE) -> MeasureRule:
    # A pre-dose answer given after the dose describes a different state: no overdue phase.
    return MeasureRule(
        instrument,
        Anchor.EACH_DOSE,
        "before dose",
        source,
        window_opens_before=24 * _H,
        due_until_after=timedelta(0),
        expires_after=timedelta(0),
    )


def _madrs_24h(dose_numbers: frozenset[int] | None) -> MeasureRule:
    # Due 18-36 h after the dose, the same window the outcome policy uses for rapid response.
    return MeasureRule(
        "madrs",
        Anchor.EACH_DOSE,
        "24 h after dose",
        _AT_24H,
        offset=24 * _H,
        window_opens_before=6 * _H,
        due_until_after=12 * _H,
        expires_after=24 * _H,
        dose_numbers=dose_numbers,
    )


def _end_of_course(instrument: str) -> MeasureRule:
    return MeasureRule(
        instrument,
        Anchor.END_OF_COURSE,
        "end of course",
        _END_OF_COURSE,
        window_opens_before=_D,
        due_until_after=3 * _D,
        expires_after=7 * _D,
        priority=True,
    )


# After the course, in days: first due, window opens before, due until after, expires after,
# repeats every; then how many times.
_FOLLOW_UPS: tuple[tuple[str, str, tuple[int, int, int, int, int], int], ...] = (
    ("qids_sr16", "weekly follow-up", (7, 1, 2, 6, 7), 4),
    ("phq9", "fortnightly follow-up", (14, 2, 3, 10, 14), 2),
    ("phq9", "monthly follow-up", (58, 3, 7, 14, 30), 5),
    ("gad7", "fortnightly follow-up", (14, 2, 3, 10, 14), 2),
    ("gad7", "monthly follow-up", (58, 3, 7, 14, 30), 5),
)


def _follow_up() -> tuple[MeasureRule, ...]:
    return tuple(
        MeasureRule(
            instrument,
            Anchor.AFTER_COURSE,
            label,
            _FOLLOW_UP,
            offset=first * _D,
            window_opens_before=opens * _D,
            due_until_after=due * _D,
            expires_after=expires * _D,
            repeat_every=every * _D,
            repeat_count=count,
        )
        for instrument, label, (first, opens, due, expires, every), count in _FOLLOW_UPS
    )


INTENSIVE_RETREAT_PLAN = MeasurementPlan(
    name="intensive-retreat",
    version=DEFAULT_POLICY_VERSION,
    source=Source(
        "§3",
        Verification.UNVERIFIED,
        _POLICY,
        "retreat of 3-5 doses a week over 1-2 weeks (seed articles); MADRS 24 h after every dose",
    ),
    rules=(
        *(_intake(i) for i in ("phq9", "gad7", "cssrs_screen")),
        *(_before_dose(i) for i in ("phq9", "gad7")),
        _before_dose("cssrs_screen", _SAFETY),
        _madrs_24h(None),
        *(_end_of_course(i) for i in ("phq9", "gad7", "madrs")),
        *_follow_up(),
    ),
)

STANDARD_INDUCTION_PLAN = MeasurementPlan(
    name="standard-induction",
    version=DEFAULT_POLICY_VERSION,
    source=Source(
        "§3",
        Verification.SECONDARY,
        _POLICY,
        "IV acute series, e.g. twice weekly for 2-3 weeks; MADRS 24 h after the first dose only",
    ),
    rules=(
        *(_intake(i) for i in ("phq9", "gad7", "qids_sr16", "cssrs_screen")),
        *(_before_dose(i) for i in ("phq9", "gad7", "qids_sr16")),
        _before_dose("cssrs_screen", _SAFETY),
        _madrs_24h(frozenset({1})),
        *(_end_of_course(i) for i in ("phq9", "gad7", "qids_sr16", "madrs")),
        *_follow_up(),
    ),
)
