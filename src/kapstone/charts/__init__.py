"""Server-rendered charts: Vega-Lite specs rendered to inline SVG (no JavaScript charting)."""
