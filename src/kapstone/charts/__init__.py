"""Server-rendered charts: Vega-Lite specs rendered to inline SVG (no JavaScript charting)."""

from kapstone.charts.score_trajectory import (
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

__all__ = [
    "ChartInputError",
    "ScorePoint",
    "ScoreSeries",
    "SeverityBand",
    "UnsafeSvgError",
    "bands_from_definition",
    "render_svg",
    "sanitise_svg",
    "score_trajectory_spec",
    "score_trajectory_svg",
    "trajectory_summary",
]
