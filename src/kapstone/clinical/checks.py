"""The checks every module of the core repeats, said once: a moment carries its time zone, a count is
a whole number within its bounds. Each module keeps its own words for what it refuses."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from typing import TypeGuard

from kapstone.clinical.problems import Problem


def is_naive(at: datetime) -> bool:
    """A moment without a time zone is ambiguous (which clinic's 09:00?), so the core refuses it."""
    return at.utcoffset() is None


def naive_times(stamps: Iterable[tuple[str, datetime | None]], message: str) -> list[Problem]:
    """A problem for each named moment that has no time zone (``None``, not given, is no problem).

    ``message`` may name the field as ``{field}``.
    """
    return [
        Problem(field, message.format(field=field))
        for field, at in stamps
        if at is not None and is_naive(at)
    ]


def is_whole(value: object, *, at_least: int | None = None) -> TypeGuard[int]:
    """A whole number (never a bool: a ticked box is not a count), at least ``at_least``."""
    if isinstance(value, bool) or not isinstance(value, int):
        return False
    return at_least is None or value >= at_least


def is_real(value: object, *, at_least: float | None = None) -> TypeGuard[float]:
    """A finite number (never a bool), at least ``at_least``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return False
    return at_least is None or value >= at_least
