"""One instrument's totals over time as a Vega-Lite v5 spec, plus its plain-language summary.

Dates are drawn at the wall-clock time they carry (the spec encodes them as UTC and uses UTC
scales), so the picture never depends on the rendering machine's zone: convert datetimes to the
clinic's zone before building a :class:`ScoreSeries`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

from kapstone.charts.svg import render_svg
from kapstone.clinical.instruments.definition import InstrumentDefinition

# The outcomes module's ScorePoint(at, total) is the same concept: one type for both, so the shell
# hands the same points to instrument_outcome() and to the chart.
from kapstone.clinical.outcomes import ScorePoint
from kapstone.clinical.problems import Problem, Refused

__all__ = [
    "CHART_HEIGHT",
    "CHART_WIDTH",
    "SCORE_POINTS_NAME",
    "ChartInputError",
    "ScorePoint",
    "ScoreSeries",
    "SeverityBand",
    "bands_from_definition",
    "score_trajectory_spec",
    "score_trajectory_svg",
    "trajectory_summary",
]

# Overall size of the SVG (autosize "fit"): a card on a 10-inch tablet in portrait.
CHART_WIDTH = 560
CHART_HEIGHT = 300

# The point layer's name; Vega turns it into the class "score_points_marks" on the symbol group,
# which is how tests (and anyone else) find the plotted scores in the SVG.
SCORE_POINTS_NAME = "score_points"

MIN_SPAN_MS = 7 * 86_400_000
# Fractions of the data's time span added before the first and after the last date; the right
# one keeps about a fifth of the plot free for the band labels.
LEFT_ROOM = 0.04
RIGHT_ROOM = 0.26

SCORE_COLOUR = "#1f4e79"
DOSING_COLOUR = "#6a3d9a"
THRESHOLD_COLOUR = "#8c2d04"
# Light tints from calm to warm; every band also carries its label as text.
BAND_TINTS = ("#e8f3e8", "#f3f6dc", "#fbf1d9", "#fbe6d6", "#f8dcdc", "#f2d0d8")


@dataclass(frozen=True, slots=True)
class SeverityBand:
    lower: int  # inclusive
    upper: int  # inclusive
    label: str


@dataclass(frozen=True, slots=True)
class ScoreSeries:
    instrument: str  # display name, e.g. "PHQ-9"
    title: str  # e.g. "PHQ-9 depression"
    max_total: int
    points: tuple[ScorePoint, ...]
    bands: tuple[SeverityBand, ...]
    dosing_sessions: tuple[datetime, ...]
    response_threshold: float | None = None

    def __post_init__(self) -> None:
        problems = _problems(self)
        ChartInputError.refuse_if_any(problems)

    @property
    def chronological(self) -> tuple[ScorePoint, ...]:
        return tuple(sorted(self.points, key=lambda point: point.at))

    def band_for(self, total: int) -> SeverityBand | None:
        for band in self.bands:
            if band.lower <= total <= band.upper:
                return band
        return None


class ChartInputError(Refused):
    """The series cannot be charted; ``problems`` lists every one found."""


def _problems(series: ScoreSeries) -> tuple[Problem, ...]:
    problems: list[Problem] = []
    if not series.instrument.strip():
        problems.append(Problem("instrument", "is empty; give the display name, e.g. 'PHQ-9'"))
    if series.max_total < 1:
        problems.append(Problem("max_total", f"is {series.max_total}; accepts a positive integer"))
    accepts = f"accepts an integer 0-{series.max_total}"
    for index, point in enumerate(series.points):
        if not 0 <= point.total <= series.max_total:
            problems.append(Problem(f"points[{index}].total", f"is {point.total}; {accepts}"))
    for index, band in enumerate(series.bands):
        if not 0 <= band.lower <= band.upper <= series.max_total:
            problems.append(
                Problem(
                    f"bands[{index}]",
                    f"spans {band.lower}-{band.upper}; accepts 0 <= lower <= upper <= "
                    f"{series.max_total}",
                )
            )
        if not band.label.strip():
            problems.append(Problem(f"bands[{index}].label", "is empty"))
    ordered = sorted(series.bands, key=lambda band: band.lower)
    for before, after in pairwise(ordered):
        if after.lower <= before.upper:
            problems.append(
                Problem(
                    "bands",
                    f"{before.label!r} and {after.label!r} overlap; accepts disjoint bands",
                )
            )
    threshold = series.response_threshold
    if threshold is not None and not 0 <= threshold <= series.max_total:
        problems.append(
            Problem("response_threshold", f"is {threshold}; accepts 0-{series.max_total}")
        )
    moments = [point.at for point in series.points] + list(series.dosing_sessions)
    if len({moment.tzinfo is None for moment in moments}) > 1:
        problems.append(
            Problem(
                "points/dosing_sessions",
                "mix naive and timezone-aware datetimes; accepts all of one kind",
            )
        )
    return tuple(problems)


def bands_from_definition(definition: InstrumentDefinition) -> tuple[SeverityBand, ...]:
    """The instrument library's severity bands, with words made readable (moderately_severe ->
    moderately severe)."""
    return tuple(
        SeverityBand(lower=band.low, upper=band.high, label=band.word.replace("_", " "))
        for band in definition.bands
    )


def _utc_iso(moment: datetime) -> str:
    # Wall-clock time written as UTC: Vega then shows exactly the time the caller gave.
    return moment.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def _day(moment: datetime, with_year: bool) -> str:
    text = f"{moment.day} {moment:%b}"
    return f"{text} {moment.year}" if with_year else text


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _scored(series: ScoreSeries, total: int) -> str:
    band = series.band_for(total)
    return f"{total} ({band.label})" if band else str(total)


def _sessions(count: int) -> str:
    if count == 0:
        return "no dosing sessions"
    return "1 dosing session" if count == 1 else f"{count} dosing sessions"


def trajectory_summary(series: ScoreSeries) -> str:
    """One plain sentence for the SVG's <desc> and for screen-reader text beside the chart."""
    points = series.chronological
    sessions = _sessions(len(series.dosing_sessions))
    threshold = (
        f"; response threshold {_number(series.response_threshold)}"
        if series.response_threshold is not None
        else ""
    )
    if not points:
        return f"No {series.instrument} scores yet; {sessions}{threshold}."
    first, last = points[0], points[-1]
    with_year = first.at.year != last.at.year
    if len(points) == 1:
        return (
            f"{series.instrument}: one score, {_scored(series, first.total)} on "
            f"{_day(first.at, with_year)}; {sessions}{threshold}."
        )
    if last.total < first.total:
        movement = "fell from"
    elif last.total > first.total:
        movement = "rose from"
    else:
        movement = "unchanged from"
    return (
        f"{series.instrument} {movement} {_scored(series, first.total)} on "
        f"{_day(first.at, with_year)} to {_scored(series, last.total)} on "
        f"{_day(last.at, with_year)} over {len(points)} scores; {sessions}{threshold}."
    )


def _epoch_ms(moment: datetime) -> int:
    return int(moment.replace(tzinfo=UTC).timestamp() * 1000)


def _time_domain(series: ScoreSeries) -> list[int]:
    """Explicit x domain in epoch milliseconds: a little room on the left, and room on the right
    so the band labels (drawn at the right edge) do not sit on the latest points."""
    moments = [_epoch_ms(point.at) for point in series.points]
    moments += [_epoch_ms(moment) for moment in series.dosing_sessions]
    if not moments:
        return []
    first, last = min(moments), max(moments)
    if last - first < MIN_SPAN_MS:
        # One score (or a few on close days): a week around them keeps the ticks on whole days.
        centre = (first + last) // 2
        first, last = centre - MIN_SPAN_MS // 2, centre + MIN_SPAN_MS // 2
    span = last - first
    return [first - round(span * LEFT_ROOM), last + round(span * RIGHT_ROOM)]


def _band_rows(series: ScoreSeries) -> list[dict[str, Any]]:
    ordered = sorted(series.bands, key=lambda band: band.lower)
    rows: list[dict[str, Any]] = []
    for index, band in enumerate(ordered):
        # Integer bands (0-4, 5-9) leave gaps on a continuous axis; meet halfway instead.
        tint = BAND_TINTS[round(index * (len(BAND_TINTS) - 1) / max(len(ordered) - 1, 1))]
        rows.append(
            {
                "label": band.label,
                "range": f"{band.lower}-{band.upper}",
                "from": max(band.lower - 0.5, 0),
                "to": min(band.upper + 0.5, series.max_total),
                "middle": (band.lower + band.upper) / 2,
                "tint": tint,
            }
        )
    return rows


def _point_rows(series: ScoreSeries) -> list[dict[str, Any]]:
    points = series.chronological
    with_year = bool(points) and points[0].at.year != points[-1].at.year
    return [
        {
            "at": _utc_iso(point.at),
            "total": point.total,
            "description": f"{_day(point.at, with_year)}: {series.instrument} "
            f"{_scored(series, point.total)}",
        }
        for point in points
    ]


def _rule(
    name: str,
    values: list[dict[str, Any]],
    colour: str,
    dash: list[int],
    encoding: dict[str, Any],
) -> dict[str, Any]:
    """A dashed reference line (a dosing session, the response threshold). Hidden from screen
    readers: the chart's summary already says what it marks."""
    return {
        "name": name,
        "data": {"values": values},
        "mark": {
            "type": "rule",
            "stroke": colour,
            "strokeDash": dash,
            "strokeWidth": 1.5,
            "aria": False,
        },
        "encoding": encoding,
    }


def score_trajectory_spec(series: ScoreSeries) -> dict[str, Any]:
    """A layered Vega-Lite v5 spec: labelled severity bands, the score line with points, a dashed
    rule per dosing session and an optional response-threshold rule. Same series, same spec."""
    y_scale = {"domain": [0, series.max_total], "nice": False, "zero": True}
    y_axis = {"title": f"{series.instrument} total", "tickMinStep": 1, "grid": False}
    y = {"type": "quantitative", "scale": y_scale, "axis": y_axis}
    x = {
        "type": "temporal",
        "scale": {"type": "utc", "domain": _time_domain(series)},
        "axis": {"title": "Date", "format": "%-d %b", "tickCount": 6, "labelOverlap": True},
    }
    layers: list[dict[str, Any]] = []
    band_rows = _band_rows(series)
    if band_rows:
        layers.append(
            {
                "name": "severity_bands",
                "data": {"values": band_rows},
                "mark": {"type": "rect", "aria": False},
                "encoding": {
                    "y": {"field": "from", **y},
                    "y2": {"field": "to"},
                    "fill": {"field": "tint", "type": "nominal", "scale": None, "legend": None},
                },
            }
        )
        layers.append(
            {
                "name": "severity_band_labels",
                "data": {"values": band_rows},
                "mark": {
                    "type": "text",
                    "align": "right",
                    "baseline": "middle",
                    "dx": -4,
                    "fontSize": 10,
                    "fill": "#444444",
                    "aria": False,
                },
                "encoding": {
                    "x": {"value": "width"},
                    "y": {"field": "middle", **y},
                    "text": {"field": "label"},
                },
            }
        )
    if series.dosing_sessions:
        sessions = [{"at": _utc_iso(moment)} for moment in sorted(series.dosing_sessions)]
        layers.append(
            _rule("dosing_sessions", sessions, DOSING_COLOUR, [4, 3], {"x": {"field": "at", **x}})
        )
    if series.response_threshold is not None:
        threshold = [
            {
                "value": series.response_threshold,
                "label": f"Response threshold {_number(series.response_threshold)}",
            }
        ]
        layers.append(
            _rule(
                "response_threshold",
                threshold,
                THRESHOLD_COLOUR,
                [8, 4],
                {"y": {"field": "value", **y}},
            )
        )
        layers.append(
            {
                "name": "response_threshold_label",
                "data": {"values": threshold},
                "mark": {
                    "type": "text",
                    "align": "left",
                    "baseline": "bottom",
                    "dx": 4,
                    "dy": -2,
                    "fontSize": 10,
                    "fill": THRESHOLD_COLOUR,
                    "aria": False,
                },
                "encoding": {
                    "x": {"value": 0},
                    "y": {"field": "value", **y},
                    "text": {"field": "label"},
                },
            }
        )
    point_rows = _point_rows(series)
    if point_rows:
        encoding = {"x": {"field": "at", **x}, "y": {"field": "total", **y}}
        layers.append(
            {
                "name": "score_line",
                "data": {"values": point_rows},
                "mark": {"type": "line", "stroke": SCORE_COLOUR, "strokeWidth": 2, "aria": False},
                "encoding": encoding,
            }
        )
        layers.append(
            {
                "name": SCORE_POINTS_NAME,
                "data": {"values": point_rows},
                "mark": {
                    "type": "point",
                    "filled": True,
                    "size": 50,
                    "fill": SCORE_COLOUR,
                    "opacity": 1,
                },
                "encoding": {**encoding, "description": {"field": "description"}},
            }
        )
    else:
        layers.append(
            {
                "name": "no_scores",
                "data": {"values": [{"text": f"No {series.instrument} scores yet"}]},
                "mark": {"type": "text", "fontSize": 16, "fill": "#333333"},
                "encoding": {
                    "x": {"value": {"expr": "width / 2"}},
                    "y": {"value": {"expr": "height / 2"}},
                    "text": {"field": "text"},
                },
            }
        )
    subtitle = []
    if series.dosing_sessions:
        subtitle.append("Dashed vertical lines: dosing sessions")
    if series.response_threshold is not None:
        subtitle.append("long-dashed line: response threshold")
    title: dict[str, Any] = {"text": series.title, "anchor": "start"}
    if subtitle:
        title["subtitle"] = "; ".join(subtitle)
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "description": trajectory_summary(series),
        "title": title,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "autosize": {"type": "fit", "contains": "padding"},
        "background": "white",
        "config": {"font": "sans-serif", "view": {"stroke": "#cccccc"}},
        "layer": layers,
    }


def score_trajectory_svg(series: ScoreSeries, *, id_prefix: str | None = None) -> str:
    """The chart as CSP-safe inline SVG, its <desc> the plain-language summary."""
    return render_svg(
        score_trajectory_spec(series),
        title=f"{series.title}: scores over time",
        description=trajectory_summary(series),
        id_prefix=id_prefix,
    )
