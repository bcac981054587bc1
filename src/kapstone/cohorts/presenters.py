"""The dashboard's numbers as tables of words (one source for the page, the CSVs and the PDF),
and its charts. Only aggregates: no table holds a patient identifier."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.core.cache import caches

import kapstone.charts
from kapstone.assessments.flow import short_name
from kapstone.charts.cohort import (
    MeanPoint,
    SurvivalGroup,
    SurvivalPoint,
    survival_summary,
    survival_svg,
    trajectory_summary,
    trajectory_svg,
)
from kapstone.clinical.access import Modality
from kapstone.clinical.cohort import Dashboard, Dimension, Durability
from kapstone.clinical.instruments import INSTRUMENTS
from kapstone.clinical.provenance import Source
from kapstone.clinical.routes import Route
from kapstone.clinical.statistics.proportions import ProportionDifference, ProportionEstimate
from kapstone.cohorts.dashboard import CohortQuery
from kapstone.intake import labels
from kapstone.spreadsheet import write_csv

NOT_RECORDED = "Not recorded"
DURABILITY_DIMENSIONS = (
    Dimension.PROGRAM,
    Dimension.ROUTE,
    Dimension.TREATMENT_RESISTANT,
    Dimension.BASELINE_SEVERITY,
)


@dataclass(frozen=True)
class Table:
    key: str  # the CSV's name
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""


def percent(estimate: ProportionEstimate | None) -> str:
    if estimate is None:
        return "–"
    return (
        f"{100 * estimate.estimate:.0f} % ({100 * estimate.lower:.0f}–{100 * estimate.upper:.0f})"
    )


def difference(d: ProportionDifference | None) -> str:
    if d is None:
        return "–"
    return f"{100 * d.estimate:+.0f} points ({100 * d.lower:+.0f} to {100 * d.upper:+.0f})"


def _days(value: float | None) -> str:
    return "not reached" if value is None else f"{value:.0f}"


class Labeller:
    """Words for the groups' raw values."""

    def __init__(self, program_names: Mapping[str, str]) -> None:
        self.program_names = program_names

    def __call__(self, dimension: Dimension, value: str) -> str:
        if value == "":
            return NOT_RECORDED
        if dimension is Dimension.PROGRAM:
            return self.program_names.get(value, value)
        if dimension is Dimension.ROUTE:
            return Route(value).label if value in Route.__members__.values() else value
        if dimension is Dimension.MODALITY:
            return Modality(value).label if value in Modality.__members__.values() else value
        if dimension is Dimension.CONDITION:
            return labels.label(labels.PRESENTING, value)
        if dimension is Dimension.TREATMENT_RESISTANT:
            return {"yes": "Treatment-resistant", "no": "Not treatment-resistant"}.get(value, value)
        return value.replace("_", " ").capitalize()


def instrument_name(dashboard: Dashboard) -> str:
    return short_name(dashboard.instrument)


def time_point_table(d: Dashboard) -> Table:
    rows = []
    for r in d.time_points:
        references = "; ".join(
            f"{f.study}: {f.response_percent:g} % / {f.remission_percent:g} % "
            f"({f.instrument}; {f.source.cite()})"
            for f in r.references
            if f.response_percent is not None and f.remission_percent is not None
        )
        rows.append(
            (
                r.time_point.label,
                str(r.started),
                str(r.measured),
                str(r.missing),
                str(r.not_yet_due),
                str(r.not_completed),
                str(r.no_baseline),
                percent(r.response),
                percent(r.remission),
                percent(r.response_missing_as_failure),
                references or "–",
            )
        )
    return Table(
        "time_points",
        "Response and remission by time point",
        (
            "Time point",
            "Started",
            "Measured",
            "Missing",
            "Not yet due",
            "Course not completed",
            "No usable baseline",
            "Response % (95 % CI)",
            "Remission % (95 % CI)",
            "Response, missing counted as not responding",
            "Published figures (response / remission)",
        ),
        tuple(rows),
    )


def breakdown_table(d: Dashboard, label: Labeller) -> Table:
    rows = []
    for b in d.breakdowns:
        for row in b.rows:
            rows.append(
                (
                    b.dimension.label,
                    label(b.dimension, row.group),
                    str(row.patients),
                    str(row.measured),
                    percent(row.response),
                    percent(row.remission),
                    difference(row.versus_rest),
                )
            )
    time_point = d.policy.time_point(d.policy.breakdown_time_point).label.lower()
    return Table(
        "breakdowns",
        f"Response at {time_point} by group",
        (
            "Breakdown",
            "Group",
            "Patients",
            "Measured",
            "Response % (95 % CI)",
            "Remission % (95 % CI)",
            "Response vs everyone else (95 % CI)",
        ),
        tuple(rows),
        note="A patient with two presenting conditions or two modalities is counted in each.",
    )


def trajectory_points(d: Dashboard) -> list[MeanPoint]:
    return [
        MeanPoint(p.session, p.estimate.n, p.estimate.mean, p.estimate.lower, p.estimate.upper)
        for p in d.trajectory
    ]


def _mean(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def trajectory_table(d: Dashboard) -> Table:
    return Table(
        "trajectory",
        f"Mean {instrument_name(d)} before each dosing session",
        ("Before session", "Patients", "Mean", "95 % CI lower", "95 % CI upper"),
        tuple(
            (
                str(p.session),
                str(p.estimate.n),
                _mean(p.estimate.mean),
                _mean(p.estimate.lower),
                _mean(p.estimate.upper),
            )
            for p in d.trajectory
        ),
    )


def survival_groups(durability: Durability, label: Labeller) -> list[SurvivalGroup]:
    return [
        SurvivalGroup(
            label="Everyone"
            if durability.dimension is None
            else label(durability.dimension, g.group),
            points=tuple(
                SurvivalPoint(s.time, s.survival, s.lower, s.upper, s.at_risk)
                for s in g.curve.steps
            ),
            subjects=g.curve.subjects,
        )
        for g in durability.groups
    ]


def durability_table(d: Dashboard, label: Labeller) -> Table:
    rows = []
    for durability in d.durability:
        test = durability.log_rank
        p_value = f"{test.p_value:.3f}" if test else durability.log_rank_unavailable
        for g in durability.groups:
            median = g.curve.median
            rows.append(
                (
                    "Everyone" if durability.dimension is None else durability.dimension.label,
                    "Everyone"
                    if durability.dimension is None
                    else label(durability.dimension, g.group),
                    str(g.responders),
                    str(g.losses),
                    _days(median.estimate),
                    f"{_days(median.lower)} to {_days(median.upper)}",
                    p_value,
                )
            )
    return Table(
        "durability",
        "Durability of response (Kaplan-Meier)",
        (
            "Grouped by",
            "Group",
            "Responders followed",
            "Lost response",
            "Median days to loss of response",
            "Median 95 % CI (days)",
            "Log-rank p",
        ),
        tuple(rows),
    )


def references_table(d: Dashboard) -> Table:
    labels_by_key = {t.key: t.label for t in d.policy.time_points}
    rows = []
    for r in d.time_points:
        for f in r.references:
            rows.append(
                (
                    labels_by_key.get(f.time_point, f.time_point),
                    f.study,
                    f.population,
                    f.instrument,
                    "–" if f.response_percent is None else f"{f.response_percent:g} %",
                    "–" if f.remission_percent is None else f"{f.remission_percent:g} %",
                    f.note,
                    f.source.key,
                    f.source.verification.value,
                )
            )
    return Table(
        "references",
        "Published reference figures (clinical reference §6)",
        (
            "Time point",
            "Study",
            "Population",
            "Instrument",
            "Response",
            "Remission",
            "Note",
            "Citation key",
            "Verification",
        ),
        tuple(rows),
    )


_SCALES = {"cadss": "CADSS", "cadss_6": "CADSS-6"}


def safety_table(d: Dashboard, label: Labeller) -> Table:
    rows = []
    for r in d.safety:
        dissociation = "; ".join(
            f"{_SCALES.get(scale, scale)} {e.mean:.1f}"
            + (
                f" ({e.lower:.1f}–{e.upper:.1f})"
                if e.lower is not None and e.upper is not None
                else ""
            )
            + f", n = {e.n}"
            for scale, e in r.dissociation
        )
        rows.append(
            (
                label(Dimension.ROUTE, r.route),
                r.dose_band or "No dose charted",
                str(r.sessions),
                f"{r.with_adverse_event} · {percent(r.adverse_event_rate)}",
                f"{r.with_moderate_or_severe} · {percent(r.moderate_or_severe_rate)}",
                dissociation or "–",
            )
        )
    return Table(
        "safety",
        "Dissociation and adverse events by route and dose",
        (
            "Route",
            "Dose given in the session",
            "Charted sessions",
            "Sessions with an adverse event (95 % CI)",
            "With a moderate or severe one (95 % CI)",
            "Mean peak dissociation (95 % CI)",
        ),
        tuple(rows),
        note="From the chair-side records of the cohort's sessions; dose bands are clinic policy "
        "for comparing rates, not a dosing rule.",
    )


def tables(d: Dashboard, label: Labeller) -> dict[str, Table]:
    found = [
        time_point_table(d),
        breakdown_table(d, label),
        trajectory_table(d),
        durability_table(d, label),
        safety_table(d, label),
        references_table(d),
    ]
    return {t.key: t for t in found}


@dataclass(frozen=True)
class Charts:
    trajectory_svg: str
    trajectory_summary: str
    survival_svg: str
    survival_summary: str


@functools.cache
def _chart_code() -> str:
    digest = hashlib.sha256()
    for path in sorted(Path(kapstone.charts.__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _drawn(draw: Callable[..., str], *args: object, **kwargs: object) -> str:
    """``draw(*args, **kwargs)``, kept in the ``computed`` cache under a hash of the arguments and
    the drawing code: a chart (Vega-Lite to SVG, a few hundred milliseconds) is a pure function of
    them, so nothing kept can go stale."""
    inputs = (_chart_code(), draw.__name__, args, sorted(kwargs.items()))
    key = "cohort-chart:" + hashlib.sha256(repr(inputs).encode()).hexdigest()
    store = caches["computed"]
    svg = store.get(key)
    if not isinstance(svg, str):
        svg = draw(*args, **kwargs)
        store.set(key, svg)
    return svg


def charts(d: Dashboard, label: Labeller, durability_by: Dimension | None) -> Charts:
    name = instrument_name(d)
    definition = INSTRUMENTS.get(d.instrument)
    total_range = definition.scoring.total_range if definition else None
    max_total = total_range[1] if total_range else 27
    points = trajectory_points(d)
    groups = survival_groups(d.durability_by(durability_by), label)
    return Charts(
        trajectory_svg=_drawn(
            trajectory_svg, name, max_total, tuple(points), id_prefix="cohort-trajectory"
        )
        if points
        else "",
        trajectory_summary=trajectory_summary(name, points),
        survival_svg=_drawn(
            survival_svg,
            tuple(groups),
            id_prefix="cohort-durability",
            min_at_risk=d.policy.survival_min_at_risk,
        )
        if groups
        else "",
        survival_summary=survival_summary(groups, d.policy.survival_min_at_risk),
    )


def as_csv(table: Table, context: Sequence[tuple[str, str]] = ()) -> str:
    """The table, each row followed by the same context columns (period, filters, instrument,
    policy versions), so every row read on its own still says what it counts."""
    values = [value for _, value in context]
    return write_csv(
        [*table.columns, *(name for name, _ in context)],
        ([*row, *values] for row in table.rows),
    )


def csv_context(d: Dashboard, filters: str) -> list[tuple[str, str]]:
    return [
        ("Period start", d.period_start.date().isoformat()),
        ("Period end (exclusive)", d.period_end.date().isoformat()),
        ("Filters", filters),
        ("Instrument", instrument_name(d)),
        ("Cohort policy", d.policy_version),
        ("Outcome policy", d.outcome_policy_version),
        ("Computed at", d.now.isoformat(timespec="seconds")),
    ]


def filters_text(query: CohortQuery, label: Labeller, site_names: Mapping[int, str]) -> str:
    parts = []
    site_id = query["site_id"]
    if site_id:
        parts.append(f"site {site_names.get(site_id, site_id)}")
    for value, dimension in (
        (query["program"], Dimension.PROGRAM),
        (query["modality"], Dimension.MODALITY),
        (query["route"], Dimension.ROUTE),
    ):
        if value:
            parts.append(f"{dimension.label.lower()} {label(dimension, value)}")
    return ", ".join(parts) or "all sites, programs, routes and modalities"


def _cite(source: Source) -> str:
    return f"{source.evidence.value.replace('_', ' ')}; {source.cite()}"


def definitions(d: Dashboard) -> list[tuple[str, str]]:
    """The footnote: every definition the numbers rest on, with its source."""
    policy, outcome = d.policy, d.policy.outcome
    name = instrument_name(d)
    reduction = f"{float(outcome.response_min_reduction * 100):g} %"
    criterion = d.remission_criterion
    relapse = outcome.relapse
    out = [
        (
            "Cohort",
            "patients whose first dosing session held (not cancelled) falls in the period; the "
            "site is where that session was given; program, route and modalities come from the "
            "signed treatment plan (else the program of the measurement plan, and the session's "
            "route).",
        ),
        (
            "Baseline",
            f"the last {name} at or before the first dose, no older than "
            f"{policy.baseline_max_age.days} days ({_cite(policy.baseline_source)}). Without one "
            "(or with a baseline of 0) a patient is counted as 'no usable baseline'.",
        ),
        (
            "Completed",
            "at least the program's number of dosing sessions held; the end of course is the "
            "last of them, and any later dose is maintenance.",
        ),
        (
            "Response",
            f"a drop of at least {reduction} from baseline ({_cite(outcome.response_source)}).",
        ),
        (
            "Remission",
            f"{name} {criterion.comparator.value} {criterion.threshold} ({_cite(criterion.source)})."
            if criterion
            else f"not defined for {name} by the outcome policy.",
        ),
    ]
    for t in policy.time_points:
        out.append((t.label, f"{t.describe()} ({_cite(t.source)})."))
    out += [
        (
            "Missing",
            "the window has closed without a score: shown beside each figure, never dropped; the "
            "conservative column counts every missing patient as not responding. 'Not yet due': "
            "the window has not closed yet.",
        ),
        (
            "Intervals",
            "95 % Wilson score intervals for proportions; Newcombe's hybrid score interval for "
            "differences; Student t intervals for mean scores; Kaplan-Meier with Greenwood "
            "variance and log-log intervals, medians with Brookmeyer-Crowley intervals; log-rank "
            "test between groups.",
        ),
        (
            "Durability",
            "whole days (rounded) from the first response to the loss of response: "
            f"{relapse.consecutive_measures} "
            f"or more consecutive scores below the response criterion spanning at least "
            f"{relapse.min_span.days} days, dated at the score that completes the run. Censored at "
            "the last score before maintenance starts (a dose after the induction course), or "
            f"else at the last score ({_cite(policy.durability_source)}). The numbers under "
            "the curves are the responders still followed (at risk) on that day; a curve stops "
            f"where fewer than {policy.survival_min_at_risk} remain "
            f"({_cite(policy.survival_min_at_risk_source)}).",
        ),
        (
            "Policies",
            f"cohort policy {d.policy_version}, outcome policy {d.outcome_policy_version}: clinic "
            "policy the medical director may change.",
        ),
    ]
    return out
