"""Refusals the production profile makes at start-up, kept apart from settings.py so tests call them.

Pure Python: settings.py calls :func:`production_problems` while it is being imported, before Django
is configured, and raises on the first problem.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter

GENERATE_SECRET = "python -c 'import secrets; print(secrets.token_urlsafe(64))'"  # noqa: S105
MIN_SECRET_LENGTH = 50
MIN_DISTINCT_CHARACTERS = 20
# Six in a row of one character or of counting characters (aaaaaa, abcdef, 654321): a random key
# holds such a run about once in a few million.
MAX_RUN = 5
# A stretch this long seen twice means a phrase typed again (a random key repeats none).
REPEATED_STRETCH = 8
# Bits estimated from the key's own character frequencies: the generator above gives about 450,
# Django's get_random_secret_key() about 240 (never under 220 in 2 000 draws).
MIN_ESTIMATED_BITS = 200


def _longest_run(key: str) -> int:
    """The longest run of one repeated character or of characters counting up or down by one."""
    longest = repeat = up = down = 1
    for previous, current in itertools.pairwise(key):
        step = ord(current) - ord(previous)
        repeat = repeat + 1 if step == 0 else 1
        up = up + 1 if step == 1 else 1
        down = down + 1 if step == -1 else 1
        longest = max(longest, repeat, up, down)
    return longest if key else 0


def _repeats_a_stretch(key: str) -> bool:
    stretches = [key[i : i + REPEATED_STRETCH] for i in range(len(key) - REPEATED_STRETCH + 1)]
    return len(set(stretches)) < len(stretches)


def estimated_bits(key: str) -> float:
    """Shannon entropy of the key's own character frequencies times its length.

    It catches a small or lopsided alphabet; repetition and runs, which it misses, are checked
    on their own.
    """
    if not key:
        return 0.0
    counts = Counter(key)
    per_character = -sum(n / len(key) * math.log2(n / len(key)) for n in counts.values())
    return per_character * len(key)


def secret_key_problem(key: str) -> str | None:
    """Why the key is too weak for production, or None when it will do."""
    if len(key) < MIN_SECRET_LENGTH:
        found = "is not set" if not key else f"has only {len(key)} characters"
        return f"KAPSTONE_SECRET_KEY {found}; production needs at least {MIN_SECRET_LENGTH}"
    distinct = len(set(key))
    if distinct < MIN_DISTINCT_CHARACTERS:
        return (
            f"KAPSTONE_SECRET_KEY uses only {distinct} different characters "
            f"(at least {MIN_DISTINCT_CHARACTERS} expected from a random key)"
        )
    if _longest_run(key) > MAX_RUN:
        return (
            "KAPSTONE_SECRET_KEY holds a run of repeated or counting characters "
            "(like aaaaaa or 123456), which a random key does not"
        )
    if _repeats_a_stretch(key):
        return (
            f"KAPSTONE_SECRET_KEY repeats a stretch of {REPEATED_STRETCH} or more characters, "
            "which a random key does not"
        )
    bits = estimated_bits(key)
    if bits < MIN_ESTIMATED_BITS:
        return (
            f"KAPSTONE_SECRET_KEY looks guessable: about {bits:.0f} bits of entropy "
            f"(at least {MIN_ESTIMATED_BITS} expected)"
        )
    return None


def production_problems(*, secret_key: str, debug: bool) -> list[str]:
    """Everything the production profile refuses to start with, each with how to fix it."""
    problems = []
    if debug:
        problems.append(
            "KAPSTONE_DEBUG is on: the production profile refuses it, because debug pages show "
            "settings and the data of the request (a patient's) to whoever triggers an error. "
            "Remove KAPSTONE_DEBUG from the environment."
        )
    secret = secret_key_problem(secret_key)
    if secret is not None:
        problems.append(f"{secret}. Generate one with: {GENERATE_SECRET}")
    return problems
