"""A patient's outcomes from their submitted questionnaires: the core's numbers, a chart, a summary.

The numbers are :func:`kapstone.clinical.outcomes.instrument_outcome`'s under the clinic's outcome
policy; this module only gathers the dated totals and dosing sessions and words the results for the
page. Only what has happened by ``now`` counts: a session booked for next week is not a dose yet,
and counting it would move the baseline.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.core.cache import caches
from django.utils import timezone

import kapstone.charts
from kapstone.accounts.models import StaffUser
from kapstone.assessments.flow import short_name
from kapstone.assessments.models import QuestionnaireResponse, ResponseStatus
from kapstone.charts import (
    ChartInputError,
    ScoreSeries,
    bands_from_definition,
    score_trajectory_svg,
    trajectory_summary,
)
from kapstone.clinical.access import Permission, may
from kapstone.clinical.instruments import INSTRUMENTS, InstrumentDefinition
from kapstone.clinical.outcomes import (
    DEFAULT_OUTCOME_POLICY,
    BaselineRule,
    InstrumentOutcome,
    OutcomePolicy,
    RelapseWarning,
    RemissionCriterion,
    ScorePoint,
    instrument_outcome,
)
from kapstone.clinical.provenance import Source
from kapstone.clinical.reliable_change import ReliabilityKind, ReliabilityParameters
from kapstone.dosing.selectors import DoseTimeSource, dose_times
from kapstone.patients.models import Patient

# The clinic's outcome policy. Thresholds are clinic policy the medical director may change; every
# page shows the version that produced its numbers.
OUTCOME_POLICY: OutcomePolicy = DEFAULT_OUTCOME_POLICY

_RELIABILITY_KINDS = {
    ReliabilityKind.INTERNAL_CONSISTENCY: "Cronbach's alpha",
    ReliabilityKind.TEST_RETEST: "test–retest",
}
_COMPARATORS = {"<": "<", "<=": "≤"}
_BASELINE_RULES = {
    BaselineRule.LAST_AT_OR_BEFORE_FIRST_DOSE: "the last score before the first dosing session",
    BaselineRule.FIRST_SCORE_NO_DOSING: "the first score (no dosing session yet)",
    BaselineRule.FIRST_SCORE_AFTER_DOSING_STARTED: "the first score, taken after dosing started",
}


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _basis(source: Source) -> str:
    """How far a threshold is established, e.g. "clinic policy; SUSTAIN3-TBL (verified)"."""
    return f"{source.evidence.value.replace('_', ' ')}; {source.cite()}"


@dataclass(frozen=True)
class Remission:
    criterion: RemissionCriterion
    text: str  # "PHQ-9 < 5"
    basis: str


@dataclass(frozen=True)
class Reliability:
    parameters: ReliabilityParameters
    kind: str
    reliability_basis: str
    sd_basis: str
    sd_note: str


@dataclass(frozen=True)
class InstrumentCard:
    """One instrument with at least one submitted total."""

    definition: InstrumentDefinition
    name: str  # "PHQ-9"
    outcome: InstrumentOutcome
    scores: tuple[ScorePoint, ...]  # chronological, local time
    severities: tuple[str, ...]  # the severity word of each score, same order
    change_text: str | None
    percent_text: str | None
    response_percent: str  # "50": the reduction from baseline that counts as response
    response_threshold: float | None  # a total at or below this is a response
    response_threshold_text: str | None
    remission: Remission | None
    reliability: Reliability | None
    category_text: str | None
    unavailable: Mapping[str, str]  # outcome -> why it is not shown
    chart_svg: str  # sanitised by kapstone.charts; empty when it could not be drawn
    chart_summary: str
    chart_problem: str

    @property
    def has_follow_up(self) -> bool:
        return self.outcome.follow_up_count > 0

    @property
    def baseline_after_dosing(self) -> bool:
        return self.outcome.baseline_rule is BaselineRule.FIRST_SCORE_AFTER_DOSING_STARTED

    @property
    def baseline_rule_text(self) -> str:
        return _BASELINE_RULES[self.outcome.baseline_rule]

    @property
    def baseline_before_dosing(self) -> bool:
        return self.outcome.baseline_rule is BaselineRule.LAST_AT_OR_BEFORE_FIRST_DOSE

    @property
    def relapse_warnings(self) -> tuple[RelapseWarning, ...]:
        return self.outcome.relapse_warnings

    @property
    def score_rows(self) -> list[tuple[ScorePoint, str]]:
        return list(zip(self.scores, self.severities, strict=True))


@dataclass(frozen=True)
class RiskScreen:
    """An instrument scored as a risk level instead of a total (the C-SSRS screener)."""

    definition: InstrumentDefinition
    name: str
    latest: QuestionnaireResponse
    count: int

    @property
    def level(self) -> str:
        return self.latest.severity.replace("_", " ") or "not recorded"


@dataclass(frozen=True)
class PatientOutcomes:
    cards: tuple[InstrumentCard, ...]
    risk_screens: tuple[RiskScreen, ...]
    dosing_sessions: tuple[dt.datetime, ...]
    policy: OutcomePolicy
    response_percent: str  # "50"
    rapid_window: str  # "18-36 h"
    relapse_rule: str
    relapse_basis: str
    # How the first dose's time is known: charted at the chair, or the booked start.
    first_dose_source: DoseTimeSource | None = None

    @property
    def relapse_warnings(self) -> list[tuple[InstrumentCard, RelapseWarning]]:
        return [(card, warning) for card in self.cards for warning in card.relapse_warnings]

    def card(self, instrument: str) -> InstrumentCard | None:
        return next((card for card in self.cards if card.definition.name == instrument), None)


def _hours(span: dt.timedelta) -> str:
    return _number(span.total_seconds() / 3600)


def _submitted(patient: Patient, now: dt.datetime) -> list[QuestionnaireResponse]:
    """Chronological. ``submitted_at`` is the moment a score describes: a clinician's rating is
    submitted at its interview time (see :func:`kapstone.assessments.services.rate_instrument`)."""
    return list(
        QuestionnaireResponse.objects.filter(
            questionnaire_set__patient=patient,
            status=ResponseStatus.SUBMITTED,
            submitted_at__lte=now,
        ).order_by("submitted_at", "pk")
    )


def _remission(criterion: RemissionCriterion | None, name: str) -> Remission | None:
    if criterion is None:
        return None
    text = f"{name} {_COMPARATORS.get(criterion.comparator.value, criterion.comparator.value)} "
    return Remission(criterion, text + str(criterion.threshold), _basis(criterion.source))


def _reliability(outcome: InstrumentOutcome, policy: OutcomePolicy) -> Reliability | None:
    parameters = (
        outcome.reliable_change.parameters
        if outcome.reliable_change is not None
        else policy.reliability_for(outcome.instrument)
    )
    if parameters is None:
        return None
    return Reliability(
        parameters=parameters,
        kind=_RELIABILITY_KINDS.get(parameters.reliability_kind, str(parameters.reliability_kind)),
        reliability_basis=_basis(parameters.reliability_source),
        sd_basis=_basis(parameters.standard_deviation_source),
        sd_note=parameters.standard_deviation_source.note,
    )


def _chart(
    definition: InstrumentDefinition,
    name: str,
    scores: tuple[ScorePoint, ...],
    sessions: tuple[dt.datetime, ...],
    threshold: float | None,
    *,
    draw: bool,
) -> tuple[str, str, str]:
    """(svg, summary, problem). Dates go in local wall-clock time, as the chart draws them."""
    total_range = definition.scoring.total_range
    assert total_range is not None  # only instruments with a total get a chart
    try:
        series = ScoreSeries(
            instrument=name,
            title=f"{name} total score",
            max_total=total_range[1],
            points=scores,
            bands=bands_from_definition(definition),
            dosing_sessions=tuple(timezone.localtime(at) for at in sessions),
            response_threshold=threshold,
        )
    except ChartInputError as exc:
        return "", "", f"The chart cannot be drawn: {exc}"
    summary = trajectory_summary(series)
    if not draw:
        return "", summary, ""
    svg = drawn_chart(series, id_prefix=f"outcome-{definition.name.replace('_', '-')}")
    return svg, summary, ""


@cache
def _chart_code() -> str:
    """A fingerprint of the chart-drawing code: a changed drawing is never served from the cache."""
    digest = hashlib.sha256()
    for path in sorted(Path(kapstone.charts.__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def drawn_chart(series: ScoreSeries, *, id_prefix: str) -> str:
    """The trajectory chart's SVG, drawn once per set of inputs. The drawing (Vega-Lite to SVG,
    then sanitised) is a pure function of the series and the drawing code, and costs a few hundred
    milliseconds, so it is kept in the ``computed`` cache (settings.CACHES) under a hash of both."""
    key = hashlib.sha256(repr((_chart_code(), id_prefix, series)).encode()).hexdigest()
    store = caches["computed"]
    svg = store.get(f"outcome-chart:{key}")
    if not isinstance(svg, str):
        svg = score_trajectory_svg(series, id_prefix=id_prefix)
        store.set(f"outcome-chart:{key}", svg)
    return svg


def _card(
    definition: InstrumentDefinition,
    responses: list[QuestionnaireResponse],
    sessions: tuple[dt.datetime, ...],
    policy: OutcomePolicy,
    *,
    draw: bool,
) -> InstrumentCard:
    # One score per instant (the core refuses two): a later row at the same moment wins.
    by_moment: dict[dt.datetime, tuple[int, QuestionnaireResponse]] = {}
    for r in responses:
        if r.total is not None and r.submitted_at is not None:
            by_moment[r.submitted_at] = (r.total, r)
    moments = sorted(by_moment)
    points = tuple(ScorePoint(at, by_moment[at][0]) for at in moments)
    chosen = [by_moment[at][1] for at in moments]
    outcome = instrument_outcome(definition.name, points, sessions, policy=policy)
    name = short_name(definition.name)
    reduction = policy.response_min_reduction
    threshold = (
        float(outcome.baseline.total * (1 - reduction))
        if outcome.higher_is_worse and outcome.baseline.total > 0
        else None
    )
    unavailable: dict[str, str] = {}
    for entry in outcome.unavailable:
        unavailable.setdefault(entry.outcome, entry.reason.replace(definition.name, name))
    local = tuple(ScorePoint(timezone.localtime(p.at), p.total) for p in points)
    svg, summary, problem = _chart(definition, name, local, sessions, threshold, draw=draw)
    rci = outcome.reliable_change
    return InstrumentCard(
        definition=definition,
        name=name,
        outcome=outcome,
        scores=local,
        severities=tuple(
            (r.severity or definition.band_for(p.total) or "").replace("_", " ")
            for r, p in zip(chosen, points, strict=True)
        ),
        change_text=None if outcome.change is None else f"{outcome.change:+d}",
        percent_text=(
            None if outcome.percent_change is None else f"{outcome.percent_change:+.0f} %"
        ),
        response_percent=_number(float(reduction * 100)),
        response_threshold=threshold,
        response_threshold_text=None if threshold is None else _number(threshold),
        remission=_remission(outcome.remission_criterion, name),
        reliability=_reliability(outcome, policy),
        category_text=None if rci is None else rci.category.value.replace("_", " "),
        unavailable=unavailable,
        chart_svg=svg,
        chart_summary=summary,
        chart_problem=problem,
    )


def _gather(patient: Patient, now: dt.datetime, *, draw: bool) -> PatientOutcomes:
    policy = OUTCOME_POLICY
    given = [d for d in dose_times(patient) if d.at <= now]
    sessions = tuple(d.at for d in given)
    by_instrument: dict[str, list[QuestionnaireResponse]] = {}
    for response in _submitted(patient, now):
        by_instrument.setdefault(response.instrument, []).append(response)
    cards: list[InstrumentCard] = []
    screens: list[RiskScreen] = []
    # The library's order (PHQ-9 first), whatever order they were sent in.
    for name, definition in INSTRUMENTS.items():
        responses = by_instrument.get(name)
        if not responses:
            continue
        if definition.scoring.total_range is None:
            screens.append(
                RiskScreen(definition, short_name(definition.name), responses[-1], len(responses))
            )
        elif any(r.total is not None for r in responses):
            cards.append(_card(definition, responses, sessions, policy, draw=draw))
    rule = policy.relapse
    return PatientOutcomes(
        cards=tuple(cards),
        risk_screens=tuple(screens),
        dosing_sessions=sessions,
        policy=policy,
        response_percent=_number(float(policy.response_min_reduction * 100)),
        rapid_window=f"{_hours(policy.rapid_response_window_open)}–"
        f"{_hours(policy.rapid_response_window_close)} h",
        relapse_rule=rule.describe(),
        relapse_basis=_basis(rule.source),
        first_dose_source=given[0].source if given else None,
    )


def patient_outcomes(patient: Patient, now: dt.datetime) -> PatientOutcomes:
    """Every instrument with a submitted total (outcome, chart with dosing sessions and severity
    bands, text summary), and the risk screens (no total) with their latest level."""
    return _gather(patient, now, draw=True)


@dataclass(frozen=True)
class OutcomesOverview:
    phq9: InstrumentCard | None
    relapse_warnings: list[tuple[InstrumentCard, RelapseWarning]]
    policy_version: str


def overview_for(user: StaffUser, patient: Patient, now: dt.datetime) -> OutcomesOverview | None:
    """The chart overview's short summary: latest PHQ-9 and any relapse warning, without charts.
    None when the user's role may not read questionnaire results."""
    on_team = user.pk in patient.care_team_ids()
    if not may(user.staff_role, Permission.SEE_RESPONSES, on_care_team=on_team):
        return None
    data = _gather(patient, now, draw=False)
    return OutcomesOverview(
        phq9=data.card("phq9"),
        relapse_warnings=data.relapse_warnings,
        policy_version=data.policy.version,
    )
