"""CSV for people who open it in a spreadsheet: one guard against formula injection for every export.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some, a tab or a
carriage return) as a formula, so a patient's note reading ``-2+cmd|...`` would execute on the
reader's machine. Every text cell starting so gets a leading apostrophe, which spreadsheets show as
text and do not display. Numbers stay numbers: int, Decimal and float values are written as they
are, and so is text that is nothing but a plain number ("-5", "-0.25"), which no spreadsheet can run.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")


def safe_cell(value: Any) -> Any:
    """``value`` as a CSV cell a spreadsheet will not execute."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal):
        return value
    text = str(value)
    if text.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def write_csv(
    header: Iterable[Any], rows: Iterable[Iterable[Any]], *, lineterminator: str = "\r\n"
) -> str:
    """The whole CSV text, every cell (header included) through :func:`safe_cell`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=lineterminator)
    writer.writerow([safe_cell(v) for v in header])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue()
