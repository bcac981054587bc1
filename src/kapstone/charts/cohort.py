"""The cohort dashboard's charts as Vega-Lite v5 specs rendered to CSP-safe SVG (pure).

* :func:`trajectory_svg`: mean score before each dosing session with its 95 % interval as an
  error bar, and n under each point in the summary.
* :func:`survival_svg`: Kaplan-Meier curves of durability of response, one per group, drawn as
  steps with their pointwise interval as a shaded step band, the numbers at risk under the axis,
  and each curve stopped where fewer than ``min_at_risk`` responders are still followed (past
  that point a single loss moves the curve by a fifth or more: the tail says little).

Both take plain tuples (the cohort core's numbers), so they know nothing of the database. Every
chart's ``<desc>`` is a plain-language summary of what it shows, for screen readers and the PDF.
"""

from __future__ import annotations

import math
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
    at_risk: int = 0  # followed just before this time


@dataclass(frozen=True, slots=True)
class SurvivalGroup:
    label: str
    points: tuple[SurvivalPoint, ...]  # the curve's steps in time order (without the origin)
    subjects: int = 0  # responders followed from day 0

    def at_risk(self, time: float) -> int:
        """Still followed at ``time``: everyone at day 0, then the number at risk at the first
        step at or after ``time`` (none after the last step)."""
        if time <= 0:
            return self.subjects
        return next((p.at_risk for p in self.points if p.time >= time), 0)

    def drawn(self, min_at_risk: int) -> tuple[tuple[SurvivalPoint, ...], float | None]:
        """The steps drawn while at least ``min_at_risk`` are followed, and the day the curve
        stops (None: it is drawn to its last step; 0: not drawn at all)."""
        if self.subjects < min_at_risk:
            return (), 0.0
        kept: list[SurvivalPoint] = []
        for p in self.points:
            if p.at_risk < min_at_risk:
                return tuple(kept), p.time
            kept.append(p)
        return tuple(kept), None


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


def survival_summary(groups: Sequence[SurvivalGroup], min_at_risk: int = 1) -> str:
    if not groups:
        return "No responder to follow yet."
    parts = []
    for g in groups:
        points, stop = g.drawn(min_at_risk)
        if stop == 0.0:
            parts.append(f"{g.label}: {g.subjects} followed, too few to draw")
            continue
        last = points[-1] if points else None
        still = _number(100 * last.survival) if last else "100"
        span = _number(last.time) if last else "0"
        text = f"{g.label}: {still} % still responding at {span} days ({g.subjects} followed"
        if stop is not None:
            text += f"; stopped at {_number(stop)} days, fewer than {min_at_risk} at risk"
        parts.append(text + ")")
    return "Durability of response (Kaplan-Meier): " + "; ".join(parts) + "."


def _group_rows(group: SurvivalGroup, min_at_risk: int) -> list[dict[str, Any]]:
    points, stop = group.drawn(min_at_risk)
    if stop == 0.0:
        return []
    rows: list[dict[str, Any]] = [
        {"group": group.label, "time": 0.0, "survival": 1.0, "lower": 1.0, "upper": 1.0}
    ]
    for p in points:
        rows.append(
            {
                "group": group.label,
                "time": round(p.time, 3),
                "survival": round(p.survival, 4),
                "lower": round(p.lower if p.lower is not None else p.survival, 4),
                "upper": round(p.upper if p.upper is not None else p.survival, 4),
            }
        )
    if stop is not None and stop > rows[-1]["time"]:
        # The level reached is drawn on to the day the curve stops, without that day's drop.
        rows.append({**rows[-1], "time": round(stop, 3)})
    return rows


def risk_ticks(end: float, count: int = 6) -> tuple[float, ...]:
    """Whole-day times from 0 to ``end`` on a round step (1, 2, 5, 10, 20, 30, 60, 90 ... days)
    where the numbers at risk are shown."""
    if end <= 0:
        return (0.0,)
    for step in (1, 2, 5, 7, 10, 14, 20, 30, 60, 90, 120, 180, 365):
        if end / step <= count - 1:
            break
    else:
        step = math.ceil(end / (count - 1))
    return tuple(float(t) for t in range(0, int(end) + 1, step))


def survival_spec(groups: Sequence[SurvivalGroup], min_at_risk: int = 1) -> dict[str, Any]:
    rows = [row for g in groups for row in _group_rows(g, min_at_risk)]
    labels = [g.label for g in groups]
    colour = {
        "field": "group",
        "type": "nominal",
        "scale": {"domain": labels, "range": [GROUP_COLOURS[i % 7] for i in range(len(labels))]},
        "legend": {"title": None, "orient": "bottom"} if len(labels) > 1 else None,
    }
    followed = max((p.time for g in groups for p in g.points), default=0.0)
    end = max(followed, *(r["time"] for r in rows), 0.0) or 1.0
    ticks = risk_ticks(end)
    x = {
        "field": "time",
        "type": "quantitative",
        "scale": {"domain": [0, end]},
        "axis": {"title": "Days since first response", "values": list(ticks)},
    }
    y = {
        "type": "quantitative",
        "scale": {"domain": [0, 1]},
        "axis": {"title": "Still responding", "format": ".0%"},
    }
    risk_rows = [{"group": g.label, "time": t, "n": g.at_risk(t)} for g in groups for t in ticks]
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "description": survival_summary(groups, min_at_risk),
        "background": "white",
        "config": {"font": "sans-serif", "view": {"stroke": "#cccccc"}},
        "spacing": 4,
        "vconcat": [
            {
                "name": "durability",
                "width": WIDTH,
                "height": HEIGHT,
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
            },
            {
                # The numbers at risk, under the axis at its ticks: how many responders each part
                # of the curve stands on.
                "name": "at_risk",
                "width": WIDTH,
                "height": 18 * len(groups),
                "view": {"stroke": None},
                "data": {"values": risk_rows},
                "mark": {"type": "text", "fontSize": 11, "fill": "#222222"},
                "encoding": {
                    "x": {
                        "field": "time",
                        "type": "quantitative",
                        "scale": {"domain": [0, end]},
                        "axis": None,
                    },
                    "y": {
                        "field": "group",
                        "type": "nominal",
                        "sort": labels,
                        "axis": {
                            "title": "At risk",
                            "titleAngle": 0,
                            "titleAlign": "right",
                            "titleBaseline": "middle",
                            "domain": False,
                            "ticks": False,
                            "labels": len(labels) > 1,
                            "labelPadding": 14,
                        },
                    },
                    "text": {"field": "n", "type": "quantitative", "format": "d"},
                },
            },
        ],
    }


def survival_svg(groups: Sequence[SurvivalGroup], *, id_prefix: str, min_at_risk: int = 1) -> str:
    return render_svg(
        survival_spec(groups, min_at_risk),
        title="Durability of response: Kaplan-Meier curves",
        description=survival_summary(groups, min_at_risk),
        id_prefix=id_prefix,
    )
