"""The integration trend chart: values on their scale, gaps left out, a summary in words."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from kapstone.charts.integration_trend import (
    TrendChart,
    TrendSeries,
    trend_spec,
    trend_summary,
    trend_svg,
)

SESSIONS = ("1 · 2 Nov", "2 · 4 Nov", "3 · 6 Nov")


def sud(before=(8, 6, None), after=(5, 3, 1)) -> TrendChart:
    return TrendChart(
        "SUD (0-10)",
        "SUD",
        0,
        10,
        SESSIONS,
        (TrendSeries("SUD before", before), TrendSeries("SUD after", after)),
    )


def test_unrecorded_sessions_are_left_out_not_drawn_as_zero():
    rows = trend_spec(sud())["data"]["values"]
    assert [(r["series"], r["session"], r["value"]) for r in rows] == [
        ("SUD before", SESSIONS[0], 8),
        ("SUD before", SESSIONS[1], 6),
        ("SUD after", SESSIONS[0], 5),
        ("SUD after", SESSIONS[1], 3),
        ("SUD after", SESSIONS[2], 1),
    ]


def test_summary_names_first_and_last_values():
    assert trend_summary(sud()) == (
        "SUD (0-10). SUD before: 8 at session 1 · 2 Nov to 6 at session 2 · 4 Nov (2 sessions); "
        "SUD after: 5 at session 1 · 2 Nov to 1 at session 3 · 6 Nov (3 sessions)."
    )
    assert "SUD before: not recorded" in trend_summary(sud(before=(None, None, None)))


def test_svg_is_labelled_and_safe():
    svg = trend_svg(sud(), id_prefix="sud-trend")
    root = ET.fromstring(svg)  # noqa: S314 - our own renderer's output
    assert root.get("role") == "img"
    assert "<script" not in svg and "style=" not in svg
    assert root.find("{http://www.w3.org/2000/svg}title").text == "SUD (0-10)"
    empty = trend_svg(sud(before=(None,) * 3, after=(None,) * 3), id_prefix="empty")
    assert "Not recorded in any session yet" in empty


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (lambda: sud(before=(11, 6, None)), "off the scale"),
        (lambda: sud(after=(5, 3)), "value count"),
        (lambda: TrendChart("x", "x", 5, 5, SESSIONS, ()), "is empty"),
        (lambda: TrendChart("x", "x", 0, 10, ("a", "a"), ()), "distinct"),
    ],
)
def test_bad_charts_are_refused(bad, message):
    with pytest.raises(ValueError, match=message):
        bad()
