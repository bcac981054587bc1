"""The ledger's reports as PDF: paged tables drawn straight onto the page with ReportLab.

A year of a clinic's dispensing log is thousands of rows; laid out as one HTML table by WeasyPrint
it took 6.5 s, so these tables are drawn with fixed column widths instead (well under a second,
``bench/ledger_pdf.py``). Every page repeats the title and the column headings and says "Page n of
N"; a cell's text wraps inside its column (up to ``MAX_LINES`` lines, then ends with "…"), so
nothing is cut off silently; the totals close the last page.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from kapstone.ledger.reports import Report

FONT = "Helvetica"
BOLD = "Helvetica-Bold"
SIZE = 7.5
LEADING = 9.0
PAD = 2.0
MARGIN = 12 * mm
MAX_LINES = 3
GRID = (0.55, 0.58, 0.62)
HEADING_FILL = (0.92, 0.93, 0.95)


@dataclass(frozen=True, slots=True)
class _Row:
    lines: tuple[tuple[str, ...], ...]  # per column, its wrapped lines
    height: float
    bold: bool = False


def _column_widths(report: Report, width: float) -> list[float]:
    """Each column is at least as wide as its widest word (so words are not broken), then shares
    what is left by how much more its longest text wants (rows sampled: a year's log is long)."""
    sample = report.rows[:500] + list(report.totals)
    natural: list[float] = []
    least: list[float] = []
    for i, heading in enumerate(report.columns):
        texts = list({str(r[i]) for r in sample if i < len(r)})  # each distinct text once
        longest = max((stringWidth(t, FONT, SIZE) for t in texts), default=0.0)
        words = [w for t in [*texts, heading] for w in t.split()]
        widest = max((stringWidth(w, BOLD, SIZE) for w in words), default=0.0)
        least.append(min(widest, 90.0) + 2 * PAD + 1)
        natural.append(max(min(longest, 200.0), stringWidth(heading, BOLD, SIZE)) + 2 * PAD + 1)
    natural = [max(n, m) for n, m in zip(natural, least, strict=True)]
    if sum(natural) <= width:
        return [width * n / sum(natural) for n in natural]
    if sum(least) >= width:
        return [width * m / sum(least) for m in least]
    extra = [n - m for n, m in zip(natural, least, strict=True)]
    room = width - sum(least)
    return [m + room * e / sum(extra) for m, e in zip(least, extra, strict=True)]


def _wrap(text: str, width: float, font: str) -> tuple[str, ...]:
    if not text:
        return ("",)
    if stringWidth(text, font, SIZE) <= width:
        return (text,)
    lines: list[str] = []
    for line in simpleSplit(text, font, SIZE, width) or [text]:
        # A word wider than its column continues on the next line.
        while stringWidth(line, font, SIZE) > width and len(line) > 1:
            cut = len(line) - 1
            while cut > 1 and stringWidth(line[:cut], font, SIZE) > width:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
        lines.append(line)
    if len(lines) > MAX_LINES:
        lines = lines[:MAX_LINES]
        last = lines[-1]
        while last and stringWidth(last + "…", font, SIZE) > width:
            last = last[:-1]
        lines[-1] = last + "…"
    return tuple(lines)


def _row(
    values: Sequence[str],
    widths: Sequence[float],
    *,
    bold: bool = False,
    seen: dict[tuple[str, float, str], tuple[str, ...]] | None = None,
) -> _Row:
    font = BOLD if bold else FONT
    # A log repeats itself (products, amounts, locations, staff): each text is wrapped once.
    seen = {} if seen is None else seen
    cells = []
    for v, w in zip(values, widths, strict=False):
        key = (str(v), w, font)
        wrapped = seen.get(key)
        if wrapped is None:
            wrapped = seen[key] = _wrap(key[0], w - 2 * PAD, font)
        cells.append(wrapped)
    lines = tuple(cells)
    tallest = max((len(c) for c in lines), default=1)
    return _Row(lines, tallest * LEADING + 2 * PAD, bold)


def render_report_pdf(
    report: Report, *, site_name: str, generated_at: dt.datetime, generated_by: str
) -> bytes:
    page_width, page_height = landscape(A4)
    width = page_width - 2 * MARGIN
    widths = _column_widths(report, width)
    heading = _row(report.columns, widths, bold=True)
    seen: dict[tuple[str, float, str], tuple[str, ...]] = {}
    body = [_row(r, widths, seen=seen) for r in report.rows] or [
        _Row((("Nothing to show.",),) + ((("",),) * (len(widths) - 1)), LEADING + 2 * PAD)
    ]
    body += [_row(t, widths, bold=True) for t in report.totals]

    stamp = f"{site_name} · generated {generated_at:%d %b %Y %H:%M %Z} by {generated_by}"
    intro = [stamp, report.scope] + ([report.note] if report.note else [])
    intro_lines = [line for text in intro for line in simpleSplit(text, FONT, 8, width)]

    # Paginate first, so every page can say how many there are.
    top = page_height - MARGIN
    bottom = MARGIN + 10  # room for the page number
    pages: list[list[_Row]] = [[]]
    first_body_top = top - 16 - len(intro_lines) * 10 - 4
    space = first_body_top - heading.height - bottom
    for row in body:
        if row.height > space and pages[-1]:
            pages.append([])
            space = top - 16 - heading.height - bottom
        pages[-1].append(row)
        space -= row.height

    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(page_width, page_height), invariant=True)
    canvas.setTitle(report.title)
    canvas.setAuthor(site_name)
    for number, rows in enumerate(pages, start=1):
        y = top - 12
        canvas.setFont(BOLD, 12 if number == 1 else 9)
        canvas.drawString(MARGIN, y, report.title if number == 1 else f"{report.title} (continued)")
        y -= 4
        if number == 1:
            canvas.setFont(FONT, 8)
            for line in intro_lines:
                y -= 10
                canvas.drawString(MARGIN, y, line)
            y -= 4
        y -= 4
        y = _draw_row(canvas, heading, widths, y, fill=HEADING_FILL)
        for row in rows:
            y = _draw_row(canvas, row, widths, y, fill=HEADING_FILL if row.bold else None)
        canvas.setFont(FONT, 7)
        canvas.drawRightString(page_width - MARGIN, MARGIN, f"Page {number} of {len(pages)}")
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw_row(
    canvas: Canvas,
    row: _Row,
    widths: Sequence[float],
    y: float,
    *,
    fill: tuple[float, float, float] | None,
) -> float:
    bottom = y - row.height
    right = MARGIN + sum(widths)
    if fill is not None:
        canvas.setFillColorRGB(*fill)
        canvas.rect(MARGIN, bottom, right - MARGIN, row.height, stroke=0, fill=1)
        canvas.setFillColorRGB(0, 0, 0)
    # The row's box and its column rules in one path (one drawing call per row, not per cell).
    edges = [MARGIN]
    for w in widths:
        edges.append(edges[-1] + w)
    canvas.setStrokeColorRGB(*GRID)
    canvas.setLineWidth(0.4)
    canvas.lines(
        [(MARGIN, y, right, y), (MARGIN, bottom, right, bottom)]
        + [(x, y, x, bottom) for x in edges]
    )
    canvas.setFont(BOLD if row.bold else FONT, SIZE)
    for lines, x in zip(row.lines, edges, strict=False):
        baseline = y - PAD - SIZE
        for line in lines:
            if line:
                canvas.drawString(x + PAD, baseline, line)
            baseline -= LEADING
    return bottom
