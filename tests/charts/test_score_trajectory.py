"""Score-trajectory chart: the Vega-Lite spec, the rendered SVG, the CSP sanitiser and the summary.

vl-convert starts its JavaScript engine on the first call (about 0.3 s on this machine); later
renders take tens of milliseconds, so the worked charts are rendered once per module.
"""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kapstone.charts.score_trajectory import (
    SCORE_POINTS_NAME,
    ChartInputError,
    ScorePoint,
    ScoreSeries,
    SeverityBand,
    bands_from_definition,
    score_trajectory_spec,
    score_trajectory_svg,
    trajectory_summary,
)
from kapstone.charts.svg import UnsafeSvgError, render_svg, sanitise_svg
from kapstone.clinical.instruments.phq import GAD7, PHQ9

SVG = "{http://www.w3.org/2000/svg}"
T0 = datetime(2026, 11, 2, 9, 0)
PHQ9_BANDS = bands_from_definition(PHQ9)
FALLING = (18, 15, 12, 10, 8, 6)


def course(
    totals: tuple[int, ...], *, sessions: int = 6, threshold: float | None = 9
) -> ScoreSeries:
    return ScoreSeries(
        instrument="PHQ-9",
        title="PHQ-9 depression",
        max_total=27,
        points=tuple(ScorePoint(T0 + timedelta(days=3 * i), t) for i, t in enumerate(totals)),
        bands=PHQ9_BANDS,
        dosing_sessions=tuple(T0 + timedelta(days=3 * i, hours=1) for i in range(sessions)),
        response_threshold=threshold,
    )


def layer(spec: dict[str, Any], name: str) -> dict[str, Any]:
    layers = spec["layer"]
    assert isinstance(layers, list)
    found: list[dict[str, Any]] = [each for each in layers if each["name"] == name]
    assert len(found) == 1, f"{name}: {[each['name'] for each in layers]}"
    return found[0]


def layer_names(spec: dict[str, Any]) -> list[str]:
    layers = spec["layer"]
    assert isinstance(layers, list)
    return [each["name"] for each in layers]


def parse(svg: str) -> ET.Element:
    # Our own renderer's and sanitiser's output (DOCTYPE-free) or test literals.
    return ET.fromstring(svg)  # noqa: S314


def point_marks(root: ET.Element) -> list[ET.Element]:
    """The plotted scores: Vega names the symbol group after the layer and marks each point with
    aria-roledescription="point"."""
    groups = [
        g
        for g in root.iter(f"{SVG}g")
        if f"{SCORE_POINTS_NAME}_marks" in (g.get("class") or "").split()
    ]
    return [
        mark
        for group in groups
        for mark in group.iter(f"{SVG}path")
        if mark.get("aria-roledescription") == "point"
    ]


def all_text(root: ET.Element) -> str:
    return " ".join("".join(element.itertext()) for element in root.iter(f"{SVG}text"))


@pytest.fixture(scope="module")
def falling_svg() -> str:
    return score_trajectory_svg(course(FALLING))


@pytest.fixture(scope="module")
def empty_svg() -> str:
    return score_trajectory_svg(course((), sessions=0, threshold=None))


# --- spec -------------------------------------------------------------------------------------


def test_spec_has_bands_labels_dosing_threshold_line_and_points() -> None:
    spec = score_trajectory_spec(course(FALLING))
    assert spec["$schema"] == "https://vega.github.io/schema/vega-lite/v5.json"
    # Drawing order: backgrounds first, the score on top.
    assert layer_names(spec) == [
        "severity_bands",
        "severity_band_labels",
        "dosing_sessions",
        "response_threshold",
        "response_threshold_label",
        "score_line",
        SCORE_POINTS_NAME,
    ]
    bands = layer(spec, "severity_bands")["data"]["values"]
    assert [row["label"] for row in bands] == [
        "minimal",
        "mild",
        "moderate",
        "moderately severe",
        "severe",
    ]
    # Integer bands meet halfway so the background has no gaps and covers 0..max exactly.
    assert [(row["from"], row["to"]) for row in bands] == [
        (0, 4.5),
        (4.5, 9.5),
        (9.5, 14.5),
        (14.5, 19.5),
        (19.5, 27),
    ]
    labels = layer(spec, "severity_band_labels")
    assert labels["mark"]["type"] == "text"
    assert labels["encoding"]["text"] == {"field": "label"}

    points = layer(spec, SCORE_POINTS_NAME)["data"]["values"]
    assert [row["total"] for row in points] == list(FALLING)
    assert points[0]["at"] == "2026-11-02T09:00:00Z"
    assert points[0]["description"] == "2 Nov: PHQ-9 18 (moderately severe)"
    line = layer(spec, "score_line")
    assert line["data"]["values"] == points

    sessions = layer(spec, "dosing_sessions")
    assert sessions["mark"]["type"] == "rule"
    assert len(sessions["data"]["values"]) == 6
    assert "y" not in sessions["encoding"]  # full-height vertical rules

    threshold = layer(spec, "response_threshold")
    assert threshold["data"]["values"][0]["value"] == 9
    assert "x" not in threshold["encoding"]  # full-width horizontal rule

    y = layer(spec, SCORE_POINTS_NAME)["encoding"]["y"]
    assert y["scale"]["domain"] == [0, 27]
    assert y["axis"]["title"] == "PHQ-9 total"
    x = layer(spec, SCORE_POINTS_NAME)["encoding"]["x"]
    assert x["type"] == "temporal"
    assert x["scale"]["type"] == "utc"  # never the rendering machine's zone
    assert (spec["width"], spec["height"]) == (560, 300)
    # Meaning also in words: the dashed-line key and the summary ride along.
    assert "dosing sessions" in spec["title"]["subtitle"]
    assert spec["description"] == trajectory_summary(course(FALLING))


def test_spec_leaves_out_what_is_absent() -> None:
    spec = score_trajectory_spec(course(FALLING, sessions=0, threshold=None))
    assert layer_names(spec) == [
        "severity_bands",
        "severity_band_labels",
        "score_line",
        SCORE_POINTS_NAME,
    ]
    assert "subtitle" not in spec["title"]
    empty = score_trajectory_spec(course((), sessions=0, threshold=None))
    assert layer_names(empty) == ["severity_bands", "severity_band_labels", "no_scores"]


def test_spec_is_deterministic_and_orders_points_by_date() -> None:
    series = course(FALLING)
    shuffled = replace(
        series,
        points=tuple(reversed(series.points)),
        dosing_sessions=tuple(reversed(series.dosing_sessions)),
    )
    assert json.dumps(score_trajectory_spec(series), sort_keys=True) == json.dumps(
        score_trajectory_spec(shuffled), sort_keys=True
    )


def test_spec_shows_wall_clock_time_whatever_the_zone() -> None:
    aware = replace(
        course(FALLING, sessions=0),
        points=tuple(
            ScorePoint(p.at.replace(tzinfo=UTC) + timedelta(hours=0), p.total)
            for p in course(FALLING).points
        ),
    )
    rows = layer(score_trajectory_spec(aware), SCORE_POINTS_NAME)["data"]["values"]
    assert rows[0]["at"] == "2026-11-02T09:00:00Z"


def test_bands_from_definition_reads_the_instrument_library() -> None:
    assert [(b.lower, b.upper, b.label) for b in bands_from_definition(GAD7)] == [
        (band.low, band.high, band.word) for band in GAD7.bands
    ]
    assert "moderately severe" in [band.label for band in PHQ9_BANDS]


def test_bad_series_names_every_problem() -> None:
    with pytest.raises(ChartInputError) as caught:
        ScoreSeries(
            instrument="PHQ-9",
            title="PHQ-9",
            max_total=27,
            points=(ScorePoint(T0, 28), ScorePoint(T0.replace(tzinfo=UTC), -1)),
            bands=(SeverityBand(0, 10, "low"), SeverityBand(8, 30, "high")),
            dosing_sessions=(),
            response_threshold=40,
        )
    fields = [problem.field for problem in caught.value.problems]
    assert fields == [
        "points[0].total",
        "points[1].total",
        "bands[1]",
        "bands",
        "response_threshold",
        "points/dosing_sessions",
    ]
    assert "accepts an integer 0-27" in str(caught.value)


# --- summary ----------------------------------------------------------------------------------


def test_summary_falling() -> None:
    assert trajectory_summary(course(FALLING)) == (
        "PHQ-9 fell from 18 (moderately severe) on 2 Nov to 6 (mild) on 17 Nov over 6 scores; "
        "6 dosing sessions; response threshold 9."
    )


def test_summary_rising_unchanged_single_and_empty() -> None:
    assert trajectory_summary(course((6, 9, 21), sessions=1, threshold=None)) == (
        "PHQ-9 rose from 6 (mild) on 2 Nov to 21 (severe) on 8 Nov over 3 scores; 1 dosing session."
    )
    assert trajectory_summary(course((12, 8, 12), sessions=0, threshold=None)) == (
        "PHQ-9 unchanged from 12 (moderate) on 2 Nov to 12 (moderate) on 8 Nov over 3 scores; "
        "no dosing sessions."
    )
    assert trajectory_summary(course((18,), sessions=2, threshold=None)) == (
        "PHQ-9: one score, 18 (moderately severe) on 2 Nov; 2 dosing sessions."
    )
    assert trajectory_summary(course((), sessions=0, threshold=None)) == (
        "No PHQ-9 scores yet; no dosing sessions."
    )


def test_summary_names_years_when_the_course_crosses_new_year() -> None:
    series = ScoreSeries(
        instrument="GAD-7",
        title="GAD-7 anxiety",
        max_total=21,
        points=(ScorePoint(datetime(2026, 12, 20), 16), ScorePoint(datetime(2027, 1, 10), 4)),
        bands=bands_from_definition(GAD7),
        dosing_sessions=(),
        response_threshold=8.5,
    )
    assert trajectory_summary(series) == (
        "GAD-7 fell from 16 (severe) on 20 Dec 2026 to 4 (minimal) on 10 Jan 2027 over 2 scores; "
        "no dosing sessions; response threshold 8.5."
    )


# --- rendering --------------------------------------------------------------------------------


def test_rendered_chart_is_xml_with_axes_labels_and_accessible_name(falling_svg: str) -> None:
    root = parse(falling_svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title, desc = root[0], root[1]
    assert (title.tag, desc.tag) == (f"{SVG}title", f"{SVG}desc")
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert desc.text == trajectory_summary(course(FALLING))
    text = all_text(root)
    for expected in (
        "PHQ-9 total",
        "Date",
        "PHQ-9 depression",
        "moderately severe",
        "Response threshold 9",
    ):
        assert expected in text
    assert re.search(r"\b\d{1,2} Nov\b", text)  # date ticks


def test_rendered_chart_plots_one_mark_per_score(falling_svg: str) -> None:
    marks = point_marks(parse(falling_svg))
    assert [mark.get("aria-label") for mark in marks] == [
        "2 Nov: PHQ-9 18 (moderately severe)",
        "5 Nov: PHQ-9 15 (moderately severe)",
        "8 Nov: PHQ-9 12 (moderate)",
        "11 Nov: PHQ-9 10 (moderate)",
        "14 Nov: PHQ-9 8 (mild)",
        "17 Nov: PHQ-9 6 (mild)",
    ]
    # Falling scores are drawn lower and lower (SVG y grows downwards).
    ys = [float(re.findall(r"[-\d.]+", mark.get("transform", ""))[1]) for mark in marks]
    assert ys == sorted(ys)


def test_rendered_chart_obeys_the_content_security_policy(falling_svg: str) -> None:
    root = parse(falling_svg)
    for element in root.iter():
        assert element.tag.removeprefix(SVG) not in {
            "script",
            "style",
            "foreignObject",
            "a",
            "image",
        }
        assert "style" not in element.attrib
        assert not any(name.startswith("on") for name in element.attrib)
    assert "http://" not in falling_svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in falling_svg


def test_empty_series_renders_a_clear_no_scores_chart(empty_svg: str) -> None:
    root = parse(empty_svg)
    assert "No PHQ-9 scores yet" in all_text(root)
    assert point_marks(root) == []
    assert root[1].text == "No PHQ-9 scores yet; no dosing sessions."


def test_two_charts_on_one_page_have_distinct_ids(falling_svg: str, empty_svg: str) -> None:
    def ids(svg: str) -> set[str]:
        return {e.get("id", "") for e in parse(svg).iter() if e.get("id")}

    assert ids(falling_svg) and ids(empty_svg)
    assert not ids(falling_svg) & ids(empty_svg)
    # The same spec twice: the caller names each copy.
    spec = score_trajectory_spec(course((), sessions=0, threshold=None))
    first = render_svg(spec, title="t", description="d", id_prefix="left")
    second = render_svg(spec, title="t", description="d", id_prefix="right")
    assert ids(first) == {"left-title", "left-desc"}
    assert ids(second) == {"right-title", "right-desc"}


def test_the_chart_can_be_inlined_in_a_weasyprint_pdf(falling_svg: str) -> None:
    weasyprint = pytest.importorskip("weasyprint")
    pypdf = pytest.importorskip("pypdf")
    html = f"<html><body><h1>Outcomes</h1>{falling_svg}</body></html>"
    pdf = weasyprint.HTML(string=html).write_pdf()
    text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    # WeasyPrint drew the inline SVG: its axis title, band labels and threshold are on the page.
    for expected in ("PHQ-9 total", "moderately severe", "Response threshold 9", "17 Nov"):
        assert expected in text


# --- sanitiser ----------------------------------------------------------------------------------

NASTY = """<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     width="100" height="50" onload="alert(1)" style="background: url(https://evil.example/x.png)">
  <script>alert("top")</script>
  <title>old title</title>
  <defs>
    <style>rect { fill: red }</style>
    <clipPath id="clip1"><rect width="10" height="10"/></clipPath>
    <linearGradient id="grad"><stop offset="0" style="stop-color: #123456"/></linearGradient>
  </defs>
  <g class="mark" style="opacity: 0.5" fill="url(//evil.example/paint)">
    <g>
      <rect fill="blue" clip-path="url(#clip1)"
            style="fill: #ff0000 !important; stroke-width: 2px; mix-blend-mode: multiply;
                   cursor: pointer; stroke: url(https://evil.example/p.svg#x)"
            onclick="steal()"/>
      <path d="M0,0L1,1" fill="url(#grad)" stroke="url(#elsewhere)"/>
      <text x="1" style="font-size: 11px; font-family: 'Helvetica Neue', sans-serif"
        >Score<script>x()</script> 18</text>
    </g>
    <a href="https://evil.example/"><text>click me</text></a>
    <a xlink:href="javascript:alert(2)"><text>me too</text></a>
    <use href="https://evil.example/sprite.svg#icon"/>
    <image href="https://evil.example/track.png" width="1" height="1"/>
    <foreignObject><div xmlns="http://www.w3.org/1999/xhtml">html</div></foreignObject>
    <animate attributeName="href" to="javascript:alert(3)"/>
  </g>
</svg>"""


@pytest.fixture(scope="module")
def nasty() -> tuple[str, ET.Element]:
    clean = sanitise_svg(NASTY, title="A chart", description="What it shows", id_prefix="c1")
    return clean, parse(clean)


def test_sanitiser_removes_scripts_styles_handlers_and_external_references(
    nasty: tuple[str, ET.Element],
) -> None:
    clean, root = nasty
    tags = {element.tag.removeprefix(SVG) for element in root.iter()}
    assert tags == {
        "svg",
        "title",
        "desc",
        "defs",
        "clipPath",
        "rect",
        "linearGradient",
        "stop",
        "g",
        "path",
        "text",
    }
    for element in root.iter():
        assert "style" not in element.attrib
        assert not [name for name in element.attrib if name.startswith("on")]
    for forbidden in (
        "alert",
        "evil.example",
        "steal",
        "javascript",
        "x()",
        "mix-blend-mode",
        "cursor",
        "click me",
    ):
        assert forbidden not in clean
    assert "old title" not in clean
    assert [e.text for e in root.iter(f"{SVG}title")] == ["A chart"]


def test_sanitiser_turns_style_declarations_into_presentation_attributes(
    nasty: tuple[str, ET.Element],
) -> None:
    _, root = nasty
    rect = next(r for r in root.iter(f"{SVG}rect") if r.get("stroke-width"))
    # The style value wins over the attribute, as it does in CSS; !important is shed.
    assert rect.get("fill") == "#ff0000"
    assert rect.get("stroke-width") == "2px"
    assert rect.get("stroke") is None  # an external paint server is dropped, not kept
    assert rect.get("clip-path") == "url(#c1-clip1)"
    group = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "mark")
    assert group.get("opacity") == "0.5"
    assert group.get("fill") is None  # a protocol-relative paint server is external too
    stop = next(root.iter(f"{SVG}stop"))
    assert stop.get("stop-color") == "#123456"
    text = next(root.iter(f"{SVG}text"))
    assert text.get("font-size") == "11px"
    assert text.get("font-family") == "'Helvetica Neue', sans-serif"
    assert "".join(text.itertext()) == "Score 18"  # the script inside is gone, its text kept


def test_sanitiser_prefixes_ids_and_keeps_only_local_references(
    nasty: tuple[str, ET.Element],
) -> None:
    _, root = nasty
    ids = sorted(e.get("id", "") for e in root.iter() if e.get("id"))
    assert ids == ["c1-clip1", "c1-desc", "c1-grad", "c1-title"]
    path = next(root.iter(f"{SVG}path"))
    assert path.get("fill") == "url(#c1-grad)"
    assert path.get("stroke") is None  # points at an id not in this chart
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c1-title c1-desc"
    assert root.get("width") == "100"


def test_sanitiser_keeps_every_attribute_vl_convert_emits() -> None:
    import vl_convert

    raw = vl_convert.vegalite_to_svg(score_trajectory_spec(course(FALLING)), vl_version="5.20")
    before = [e for e in parse(raw).iter()]
    after = [e for e in parse(sanitise_svg(raw, title="t", description="d", id_prefix="p")).iter()]
    assert [e.tag for e in after] == [before[0].tag, f"{SVG}title", f"{SVG}desc"] + [
        e.tag for e in before[1:]
    ]
    for old, new in zip(before[1:], after[3:], strict=True):
        assert old.attrib == new.attrib
        assert (old.text, old.tail) == (new.text, new.tail)


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ("<html/>", "svg", "not an SVG"),
        ('<svg xmlns="http://www.w3.org/2000/svg"><g></svg>', "svg", "not well-formed"),
        (
            '<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>',
            "svg",
            "DOCTYPE",
        ),
    ],
)
def test_sanitiser_refuses_what_it_cannot_make_safe(raw: str, field: str, message: str) -> None:
    with pytest.raises(UnsafeSvgError) as caught:
        sanitise_svg(raw, title="t", description="d", id_prefix="ok")
    assert caught.value.problems[0].field == field
    assert message in caught.value.problems[0].message


def test_sanitiser_refuses_an_id_prefix_that_is_not_a_name() -> None:
    with pytest.raises(UnsafeSvgError) as caught:
        sanitise_svg(
            '<svg xmlns="http://www.w3.org/2000/svg"/>',
            title="t",
            description="d",
            id_prefix='x" onload="y',
        )
    assert caught.value.problems[0].field == "id_prefix"


# --- property: every series renders, one mark per score, nothing the CSP would block ----------

totals = st.lists(st.integers(min_value=0, max_value=27), min_size=0, max_size=12)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    totals=totals,
    gaps=st.lists(st.integers(min_value=1, max_value=60 * 24 * 20), min_size=12, max_size=12),
    sessions=st.integers(min_value=0, max_value=8),
)
def test_any_series_renders_one_mark_per_score(
    totals: list[int], gaps: list[int], sessions: int
) -> None:
    moments, at = [], T0
    for gap in gaps[: len(totals)]:
        at += timedelta(minutes=gap)
        moments.append(at)
    series = replace(
        course((), sessions=sessions),
        points=tuple(ScorePoint(m, t) for m, t in zip(moments, totals, strict=True)),
    )
    svg = score_trajectory_svg(series)
    root = parse(svg)
    assert len(point_marks(root)) == len(totals)
    assert not [e for e in root.iter() if "style" in e.attrib or e.tag == f"{SVG}style"]
    assert root[1].text == trajectory_summary(series)
