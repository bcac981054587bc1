"""The cohort dashboard's charts as Vega-Lite v5 specs rendered to CSP-safe SVG (pure).

* :func:`trajectory_svg`: mean score before each dosing session with its 95 % interval as an
  error bar, and n under each point in the summary.
* :func:`survival_svg`: Kaplan-Meier curves of durability of response, one per group, drawn as
  steps with their pointwise interval as a shaded step band.

Both take plain tuples (the cohort core's numbers), so they know nothing of the database. Every
chart's ``<desc>`` is a plain-language summary of what it shows, for screen readers and the PDF.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kapstone.charts.svg import render_svg

WIDTH = 560
HEIGHT = 280
MEAN_COLOUR = "#1f4e79"
# Colour-blind-safe (Okabe-Ito); groups beyond these reuse them with a dashed line.
GROUP_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


@dataclass(frozen=True, slots=True)
class MeanPoint:
    session: int
    n: int
    mean: float
    lower: float | None
    upper: float | None


@dataclass(frozen=True, slots=True)
class SurvivalPoint:
    time: float  # days since first response
    survival: float
    lower: float | None
    upper: float | None


@dataclass(frozen=True, slots=True)
class SurvivalGroup:
    label: str
    points: tuple[SurvivalPoint, ...]  # the curve's steps in time order (without the origin)


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def trajectory_summary(instrument: str, points: Sequence[MeanPoint]) -> str:
    if not points:
        return f"No {instrument} score before any dosing session in this cohort."
    parts = [f"session {p.session}: {_number(p.mean)} (n = {p.n})" for p in points]
    return f"Mean {instrument} total before each dosing session: " + "; ".join(parts) + "."


def trajectory_spec(instrument: str, max_total: int, points: Sequence[MeanPoint]) -> dict[str, Any]:
    rows = [
        {
            "session": p.session,
            "mean": round(p.mean, 2),
            "lower": round(p.lower if p.lower is not None else p.mean, 2),
            "upper": round(p.upper if p.upper is not None else p.mean, 2),
            "n": p.n,
        }
        for p in points
    ]
    x = {
        "field": "session",
        "type": "quantitative",
        "scale": {"domain": [0.5, max((p.session for p in points), default=1) + 0.5]},
        "axis": {"title": "Before dosing session", "tickMinStep": 1, "format": "d"},
    }
    y_scale = {"domain": [0, max_total], "nice": False, "zero": True}
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "description": trajectory_summary(instrument, points),
        "width": WIDTH,
        "height": HEIGHT,
        "autosize": {"type": "fit", "contains": "padding"},
        "background": "white",
        "config": {"font": "sans-serif", "view": {"stroke": "#cccccc"}},
        "data": {"values": rows},
        "layer": [
            {
                "name": "intervals",
                "mark": {"type": "rule", "stroke": MEAN_COLOUR, "strokeWidth": 1.5},
                "encoding": {
                    "x": x,
                    "y": {
                        "field": "lower",
                        "type": "quantitative",
                        "scale": y_scale,
                        "axis": {"title": f"Mean {instrument} total (95 % interval)"},
                    },
                    "y2": {"field": "upper"},
                },
            },
            {
                "name": "means",
                "mark": {
                    "type": "line",
                    "point": {"filled": True, "size": 50},
                    "stroke": MEAN_COLOUR,
                    "color": MEAN_COLOUR,
                },
                "encoding": {"x": x, "y": {"field": "mean", "type": "quantitative"}},
            },
            {
                "name": "counts",
                "mark": {"type": "text", "dy": -12, "fontSize": 10, "fill": "#444444"},
                "encoding": {
                    "x": x,
                    "y": {"field": "upper", "type": "quantitative"},
                    "text": {"field": "n", "type": "quantitative", "format": "d"},
                },
            },
        ],
    }


def trajectory_svg(
    instrument: str, max_total: int, points: Sequence[MeanPoint], *, id_prefix: str
) -> str:
    return render_svg(
        trajectory_spec(instrument, max_total, points),
        title=f"Mean {instrument} before each dosing session",
        description=trajectory_summary(instrument, points),
        id_prefix=id_prefix,
    )


def survival_summary(groups: Sequence[SurvivalGroup]) -> str:
    if not groups:
        return "No responder to follow yet."
    parts = []
    for g in groups:
        last = g.points[-1] if g.points else None
        still = _number(100 * last.survival) if last else "100"
        span = _number(last.time) if last else "0"
        parts.append(f"{g.label}: {still} % still responding at {span} days")
    return "Durability of response (Kaplan-Meier): " + "; ".join(parts) + "."


def _group_rows(group: SurvivalGroup) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {"group": group.label, "time": 0.0, "survival": 1.0, "lower": 1.0, "upper": 1.0}
    ]
    for p in group.points:
        rows.append(
            {
                "group": group.label,
                "time": round(p.time, 3),
                "survival": round(p.survival, 4),
                "lower": round(p.lower if p.lower is not None else p.survival, 4),
                "upper": round(p.upper if p.upper is not None else p.survival, 4),
            }
        )
    return rows


def survival_spec(groups: Sequence[SurvivalGroup]) -> dict[str, Any]:
    rows = [row for g in groups for row in _group_rows(g)]
    labels = [g.label for g in groups]
    colour = {
        "field": "group",
        "type": "nominal",
        "scale": {"domain": labels, "range": [GROUP_COLOURS[i % 7] for i in range(len(labels))]},
        "legend": {"title": None, "orient": "bottom"} if len(labels) > 1 else None,
    }
    end = max((r["time"] for r in rows), default=1.0) or 1.0
    x = {
        "field": "time",
        "type": "quantitative",
        "scale": {"domain": [0, end]},
        "axis": {"title": "Days since first response"},
    }
    y = {
        "type": "quantitative",
        "scale": {"domain": [0, 1]},
        "axis": {"title": "Still responding", "format": ".0%"},
    }
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "description": survival_summary(groups),
        "width": WIDTH,
        "height": HEIGHT,
        "autosize": {"type": "fit", "contains": "padding"},
        "background": "white",
        "config": {"font": "sans-serif", "view": {"stroke": "#cccccc"}},
        "data": {"values": rows},
        "layer": [
            {
                "name": "intervals",
                "mark": {"type": "area", "interpolate": "step-after", "opacity": 0.18},
                "encoding": {
                    "x": x,
                    "y": {"field": "lower", **y},
                    "y2": {"field": "upper"},
                    "color": colour,
                },
            },
            {
                "name": "curves",
                "mark": {"type": "line", "interpolate": "step-after", "strokeWidth": 2},
                "encoding": {"x": x, "y": {"field": "survival", **y}, "color": colour},
            },
        ],
    }


def survival_svg(groups: Sequence[SurvivalGroup], *, id_prefix: str) -> str:
    return render_svg(
        survival_spec(groups),
        title="Durability of response: Kaplan-Meier curves",
        description=survival_summary(groups),
        id_prefix=id_prefix,
    )
