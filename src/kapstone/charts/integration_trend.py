"""Integration-note measures across a course (SUD, VOC, Self-energy ...) as a Vega-Lite line chart.

One point per integration session, in session order (an ordinal axis: sessions are what the
therapist compares, and they are days apart); each series is one measure, for example "SUD before"
and "SUD after". Sessions where a measure was not recorded are left out of that line, never drawn
as zero. The SVG's description is a plain-language summary, so the chart is readable without
seeing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kapstone.charts.svg import render_svg

CHART_WIDTH = 560
CHART_HEIGHT = 240
# Colour-blind-safe pair (dark blue, orange), then more for a third or fourth series; each line
# also has its own point shape and a legend, so colour is never the only cue.
SERIES_COLOURS = ("#1f4e79", "#c55a11", "#2e7d32", "#6a3d9a")
SERIES_SHAPES = ("circle", "square", "triangle-up", "diamond")


@dataclass(frozen=True, slots=True)
class TrendSeries:
    label: str  # "SUD before"
    values: tuple[int | None, ...]  # one per session; None where not recorded


@dataclass(frozen=True, slots=True)
class TrendChart:
    title: str  # "SUD (0-10)"
    y_title: str
    y_min: int
    y_max: int
    sessions: tuple[str, ...]  # one label per session: "1 · 3 Mar"
    series: tuple[TrendSeries, ...]

    def __post_init__(self) -> None:
        if self.y_max <= self.y_min:
            raise ValueError(f"{self.title}: the scale {self.y_min}-{self.y_max} is empty")
        if len(set(self.sessions)) != len(self.sessions):
            raise ValueError(f"{self.title}: session labels must be distinct")
        for s in self.series:
            if len(s.values) != len(self.sessions):
                raise ValueError(f"{self.title}: {s.label} has a value count unlike the sessions")
            for v in s.values:
                if v is not None and not self.y_min <= v <= self.y_max:
                    raise ValueError(f"{self.title}: {s.label} value {v} is off the scale")
        if len(self.series) > len(SERIES_COLOURS):
            raise ValueError(f"{self.title}: at most {len(SERIES_COLOURS)} series")

    @property
    def has_values(self) -> bool:
        return any(v is not None for s in self.series for v in s.values)


def trend_summary(chart: TrendChart) -> str:
    """In words: for each series, its first and last recorded value and how many were recorded."""
    parts = []
    for s in chart.series:
        points = [
            (label, v) for label, v in zip(chart.sessions, s.values, strict=True) if v is not None
        ]
        if not points:
            parts.append(f"{s.label}: not recorded")
        elif len(points) == 1:
            parts.append(f"{s.label}: {points[0][1]} at session {points[0][0]}")
        else:
            parts.append(
                f"{s.label}: {points[0][1]} at session {points[0][0]} to {points[-1][1]} at "
                f"session {points[-1][0]} ({len(points)} sessions)"
            )
    return f"{chart.title}. " + "; ".join(parts) + "."


def trend_spec(chart: TrendChart) -> dict[str, Any]:
    rows = [
        {"session": label, "order": i, "series": s.label, "value": v}
        for s in chart.series
        for i, (label, v) in enumerate(zip(chart.sessions, s.values, strict=True))
        if v is not None
    ]
    labels = [s.label for s in chart.series]
    x = {
        "field": "session",
        "type": "ordinal",
        "sort": list(chart.sessions),
        "scale": {"domain": list(chart.sessions)},
        "axis": {"title": "Integration session", "labelAngle": 0, "labelOverlap": True},
    }
    y = {
        "field": "value",
        "type": "quantitative",
        "scale": {"domain": [chart.y_min, chart.y_max], "nice": False, "zero": False},
        "axis": {"title": chart.y_title, "tickMinStep": 1},
    }
    colour = {
        "field": "series",
        "type": "nominal",
        "scale": {"domain": labels, "range": list(SERIES_COLOURS[: len(labels)])},
        "legend": {"title": None, "orient": "bottom"},
    }
    shape = {
        "field": "series",
        "type": "nominal",
        "scale": {"domain": labels, "range": list(SERIES_SHAPES[: len(labels)])},
        "legend": None,
    }
    layers: list[dict[str, Any]]
    if rows:
        layers = [
            {
                "mark": {"type": "line", "strokeWidth": 2, "aria": False},
                "encoding": {"x": x, "y": y, "color": colour, "detail": {"field": "series"}},
            },
            {
                "mark": {"type": "point", "filled": True, "size": 60, "opacity": 1},
                "encoding": {
                    "x": x,
                    "y": y,
                    "color": colour,
                    "shape": shape,
                    "description": {"field": "description"},
                },
            },
        ]
        for row in rows:
            row["description"] = f"Session {row['session']}: {row['series']} {row['value']}"
    else:
        layers = [
            {
                "data": {"values": [{"text": "Not recorded in any session yet"}]},
                "mark": {"type": "text", "fontSize": 14, "fill": "#333333"},
                "encoding": {
                    "x": {"value": {"expr": "width / 2"}},
                    "y": {"value": {"expr": "height / 2"}},
                    "text": {"field": "text"},
                },
            }
        ]
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "description": trend_summary(chart),
        "title": {"text": chart.title, "anchor": "start"},
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "autosize": {"type": "fit", "contains": "padding"},
        "background": "white",
        "config": {"font": "sans-serif", "view": {"stroke": "#cccccc"}},
        "data": {"values": rows},
        "layer": layers,
    }


def trend_svg(chart: TrendChart, *, id_prefix: str | None = None) -> str:
    """The chart as CSP-safe inline SVG."""
    return render_svg(
        trend_spec(chart),
        title=chart.title,
        description=trend_summary(chart),
        id_prefix=id_prefix,
    )
