"""Charts in WeasyPrint PDFs as images, not inline SVG.

Inline, every element of a chart's SVG (thousands: ticks, labels, marks) goes through the HTML
document's CSS cascade (about a third of the program report's CPU, measured on the demo clinic);
as an ``<img>`` WeasyPrint draws the same vector SVG with its SVG renderer and no cascade. The
image stays vector, so the printed chart is as sharp as before."""

from __future__ import annotations

import base64

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def svg_image(svg: str, alt: str = "") -> SafeString:
    """``{{ charts.trajectory_svg|svg_image:"Chart: ..." }}``: the SVG as a data-URI image."""
    if not svg:
        return SafeString("")
    data = base64.b64encode(svg.encode()).decode("ascii")
    return format_html('<img class="chart" src="data:image/svg+xml;base64,{}" alt="{}">', data, alt)
