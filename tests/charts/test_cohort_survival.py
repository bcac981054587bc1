"""The durability chart shows the numbers at risk under its axis and stops each curve where fewer
than the policy's minimum are still followed."""

from __future__ import annotations

import re

from kapstone.charts.cohort import (
    SurvivalGroup,
    SurvivalPoint,
    risk_ticks,
    survival_spec,
    survival_summary,
    survival_svg,
)

# 8 responders: losses on days 10, 30, 50 and 80; 6 left at day 30, 4 at day 50.
EVERYONE = SurvivalGroup(
    "Everyone",
    (
        SurvivalPoint(10, 0.875, 0.5, 0.9, 8),
        SurvivalPoint(30, 0.75, 0.4, 0.9, 6),
        SurvivalPoint(50, 0.5625, 0.2, 0.8, 4),
        SurvivalPoint(80, 0.28, 0.1, 0.5, 2),
    ),
    subjects=8,
)
FEW = SurvivalGroup("IV", (SurvivalPoint(12, 0.5, 0.2, 0.8, 2),), subjects=2)


def _texts(svg: str) -> list[str]:
    return [t.strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


def test_numbers_at_risk_are_drawn_under_the_axis():
    svg = survival_svg([EVERYONE], id_prefix="t", min_at_risk=5)
    texts = _texts(svg)
    assert "At risk" in texts
    # Ticks every 20 days: 8 followed at day 0, 6 at day 20, 4 at 40, 2 at 60 and 80.
    assert risk_ticks(80) == (0.0, 20.0, 40.0, 60.0, 80.0)
    spec = survival_spec([EVERYONE], 5)
    risk = spec["vconcat"][1]["data"]["values"]
    assert [(r["time"], r["n"]) for r in risk] == [(0, 8), (20, 6), (40, 4), (60, 2), (80, 2)]
    for n in ("8", "6", "4", "2"):
        assert n in texts


def test_a_curve_stops_where_fewer_than_the_minimum_remain():
    spec = survival_spec([EVERYONE, FEW], 5)
    rows = spec["vconcat"][0]["data"]["values"]
    drawn = [(r["group"], r["time"], r["survival"]) for r in rows]
    # Drawn to day 50 at the level reached on day 30 (4 at risk there: the drop is not drawn);
    # the IV group (2 followed) is not drawn at all, but its numbers at risk are shown.
    assert drawn == [
        ("Everyone", 0.0, 1.0),
        ("Everyone", 10, 0.875),
        ("Everyone", 30, 0.75),
        ("Everyone", 50, 0.75),
    ]
    assert {r["group"] for r in spec["vconcat"][1]["data"]["values"]} == {"Everyone", "IV"}
    summary = survival_summary([EVERYONE, FEW], 5)
    assert "stopped at 50 days, fewer than 5 at risk" in summary
    assert "IV: 2 followed, too few to draw" in summary


def test_with_a_minimum_of_one_every_step_is_drawn():
    rows = survival_spec([EVERYONE], 1)["vconcat"][0]["data"]["values"]
    assert [r["time"] for r in rows] == [0.0, 10, 30, 50, 80]
