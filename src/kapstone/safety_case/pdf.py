"""The safety case as a PDF, drawn with ReportLab's page layout (the ledger's reports use ReportLab too)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import (
    ListFlowable,
    ListItem,
    LongTable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)

from kapstone.safety_case.document import Block, Bullets, Heading, Para, Table

MARGIN = 15 * mm
GRID = colors.Color(0.55, 0.58, 0.62)
HEADING_FILL = colors.Color(0.92, 0.93, 0.95)


def _styles() -> dict[str | int, ParagraphStyle]:
    sheet = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=sheet["BodyText"], fontSize=9, leading=11.5)
    return {
        "body": body,
        "cell": ParagraphStyle("cell", parent=body, fontSize=7.5, leading=9),
        "code": ParagraphStyle("code", parent=body, fontName="Courier", fontSize=6.5, leading=8.2),
        "head": ParagraphStyle(
            "head", parent=body, fontName="Helvetica-Bold", fontSize=7.5, leading=9
        ),
        1: ParagraphStyle("h1", parent=sheet["Heading1"], fontSize=16),
        2: ParagraphStyle("h2", parent=sheet["Heading2"], fontSize=12.5),
        3: ParagraphStyle("h3", parent=sheet["Heading3"], fontSize=10.5),
    }


def _text(text: str) -> str:
    return escape(text).replace("\n", "<br/>")


def _code(text: str, width: float, style: ParagraphStyle) -> str:
    """Node ids and dotted paths broken to the column here, after a separator where one is near:
    Courier's letters are all 0.6 em wide, so no measuring is needed (ReportLab measuring long
    words letter by letter took seconds)."""
    most = max(8, int((width - 5) / (0.6 * style.fontSize)))
    lines: list[str] = []
    for line in text.split("\n"):
        while len(line) > most:
            cut = max(line.rfind(sep, most // 2, most) for sep in (".", "::", "/", "_", "[", " "))
            cut = cut + 1 if cut > 0 else most
            lines.append(line[:cut])
            line = line[cut:]
        lines.append(line)
    return "<br/>".join(escape(line) for line in lines)


def _table(block: Table, width: float, styles: dict[str | int, ParagraphStyle]) -> LongTable:
    shares = block.widths or tuple(1 / len(block.headings) for _ in block.headings)
    widths = [width * s for s in shares]
    rows = [[Paragraph(escape(h), styles["head"]) for h in block.headings]]
    for row in block.rows:
        rows.append(
            [
                Paragraph(_code(c, widths[i], styles["code"]), styles["code"])
                if i in block.code_columns
                else Paragraph(_text(c), styles["cell"])
                for i, c in enumerate(row)
            ]
        )
    table = LongTable(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, GRID),
                ("BACKGROUND", (0, 0), (-1, 0), HEADING_FILL),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 2.5),
                ("RIGHTPADDING", (0, 0), (-1, -1), 2.5),
            ]
        )
    )
    return table


def render(doc: Sequence[Block], *, title: str) -> bytes:
    buffer = io.BytesIO()
    template = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=title,
        author="Kapstone",
        invariant=True,  # the same case gives the same bytes: no creation time inside
    )
    styles = _styles()
    width = A4[0] - 2 * MARGIN
    story: list[object] = []
    for block in doc:
        if isinstance(block, Heading):
            story.append(Paragraph(escape(block.text), styles[min(block.level, 3)]))
        elif isinstance(block, Para):
            lead = f"<b>{escape(block.label)}</b> " if block.label else ""
            story.append(Paragraph(lead + escape(block.text), styles["body"]))
        elif isinstance(block, Bullets):
            story.append(
                ListFlowable(
                    [ListItem(Paragraph(escape(i), styles["body"])) for i in block.items],
                    bulletType="bullet",
                    leftIndent=10,
                )
            )
        else:
            story.append(_table(block, width, styles))
            story.append(Spacer(1, 4))

    def footer(canvas: Any, _doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawRightString(
            A4[0] - MARGIN, MARGIN / 2, f"{title}: page {canvas.getPageNumber()}"
        )
        canvas.restoreState()

    template.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
