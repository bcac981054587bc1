"""Reading untrusted JSON for the pure commands: every way it can fail becomes one message.

``json.loads`` alone raises RecursionError on deeply nested input, ValueError on integers beyond
Python's 4,300-digit limit, and accepts NaN, Infinity and 1e999 (a float that is infinite). Here
numbers are bounded before conversion and non-finite ones refused, so a caller reports a problem
instead of printing a traceback.
"""

from __future__ import annotations

import json
import math
from typing import Any

from kapstone.clinical.numbers import MAX_NUMBER_CHARS

# Plausibility limit, not a clinical fact: no facts or answers file nests deeper than this.
MAX_DEPTH = 32


class JsonRefused(ValueError):
    """Why the text could not be used; ``str(error)`` is the message."""


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_NUMBER_CHARS:
        raise JsonRefused(f"a number of {len(text):,} digits is not plausible")
    return int(text)


def _float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS + 10:
        raise JsonRefused(f"a number of {len(text):,} characters is not plausible")
    value = float(text)
    if not math.isfinite(value):
        raise JsonRefused(f"{text} is not a finite number")
    return value


def _constant(text: str) -> Any:
    raise JsonRefused(f"{text} is not a number JSON allows")


def _depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """Nesting depth, iteratively (no recursion to exhaust), stopping beyond ``limit``."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


def load(text: str) -> Any:
    """The JSON value ``text`` holds, or :class:`JsonRefused`."""
    try:
        value = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except JsonRefused:
        raise
    except RecursionError:
        raise JsonRefused(f"nested more than {MAX_DEPTH} levels deep") from None
    except json.JSONDecodeError as error:
        raise JsonRefused(f"not valid JSON: {error}") from None
    except ValueError as error:  # anything else json or int() refuses
        raise JsonRefused(f"not usable JSON: {error}") from None
    if _depth(value) > MAX_DEPTH:
        raise JsonRefused(f"nested more than {MAX_DEPTH} levels deep")
    return value
