"""The one strict reader of numbers typed by people (forms, query strings, the pure CLI).

Python's ``int()`` and ``Decimal()`` accept far more than a clinician means to type: Unicode digits
from any script (``int("٣")`` is 3, ``Decimal("３４")`` is 34), superscripts that pass ``str.isdigit``
but then raise, underscores (``int("1_000")``), and thousands of digits (``int`` raises beyond
4,300). Here a number is ASCII digits with at most one decimal point and, where the field allows,
a sign; its length is bounded before anything converts it, and every refusal is a
:class:`NumberError` whose message says what to type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

# Plausibility limit, not a clinical fact: no clinical number needs more characters than this, and
# it keeps huge inputs away from the conversions below.
MAX_NUMBER_CHARS = 20

_NUMBER = re.compile(r"(?P<sign>[+-]?)(?P<whole>[0-9]*)(?:\.(?P<frac>[0-9]*))?")


class NumberError(ValueError):
    """A typed number refused; ``str(error)`` is the message to show beside the field."""


@dataclass(frozen=True, slots=True)
class NumberFormat:
    """What one field accepts: ``what`` names it for messages ("the dose in mg"), ``example`` is a
    value to copy ("34.5"). ``places`` 0 means whole numbers only."""

    what: str
    example: str
    places: int = 0
    signed: bool = False
    max_chars: int = MAX_NUMBER_CHARS

    def hint(self) -> str:
        return f"Enter {self.what}, e.g. {self.example}."


def parse_number(text: object, fmt: NumberFormat) -> Decimal:
    """``text`` read as ``fmt`` says, or :class:`NumberError`. Surrounding spaces are ignored."""
    if not isinstance(text, str):
        raise NumberError(fmt.hint())
    raw = text.strip()
    if raw == "":
        raise NumberError(fmt.hint())
    if len(raw) > fmt.max_chars:
        raise NumberError(f"That is too long for {fmt.what}. {fmt.hint()}")
    match = _NUMBER.fullmatch(raw)
    if match is None or not (match["whole"] or match["frac"]):
        raise NumberError(fmt.hint())
    if match["sign"] == "-" and not fmt.signed:
        raise NumberError(f"{fmt.what[0].upper()}{fmt.what[1:]} cannot be negative. {fmt.hint()}")
    frac = match["frac"] or ""
    if match["frac"] is not None and fmt.places == 0:
        raise NumberError(f"Enter a whole number for {fmt.what}, e.g. {fmt.example}.")
    if len(frac.rstrip("0")) > fmt.places:
        raise NumberError(
            f"Give {fmt.what} with at most {fmt.places} decimal place"
            f"{'' if fmt.places == 1 else 's'}, e.g. {fmt.example}."
        )
    # Only ASCII digits, a sign and a point reach Decimal, and at most max_chars of them.
    whole = match["whole"] or "0"
    return Decimal(f"{match['sign']}{whole}.{frac}" if frac else f"{match['sign']}{whole}")


def parse_whole(text: object, fmt: NumberFormat) -> int:
    """A whole number (``fmt.places`` must be 0)."""
    return int(
        parse_number(text, NumberFormat(fmt.what, fmt.example, 0, fmt.signed, fmt.max_chars))
    )
