"""SMART system scopes: what a scope string grants, and whether one set covers another.

SMART v2 (``system/Observation.rs``: c create, r read, u update, d delete, s search, in that order)
and SMART v1 (``system/Observation.read`` = read and search, ``.write``, ``.*``) are both understood.
Scopes with query parameters (``system/Observation.rs?category=...``) are not supported: they are
refused at registration and never match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# interaction -> the SMART v2 permission letters it needs
NEEDS: dict[str, frozenset[str]] = {
    "read": frozenset("r"),
    "search": frozenset("s"),
    # Bulk export reads and searches every resource of the type (Bulk Data IG: system/*.read or .rs).
    "export": frozenset("rs"),
}

_V2 = re.compile(r"^system/(?P<type>\*|[A-Z][A-Za-z]+)\.(?P<perms>c?r?u?d?s?)$")
_V1 = re.compile(r"^system/(?P<type>\*|[A-Z][A-Za-z]+)\.(?P<perms>read|write|\*)$")
_V1_LETTERS = {"read": "rs", "write": "cud", "*": "cruds"}


def parse(scope: str) -> tuple[str, frozenset[str]] | None:
    """(resource type or ``*``, permission letters) of a system scope; None if it is not one."""
    v2 = _V2.match(scope)
    if v2 and v2["perms"]:
        return v2["type"], frozenset(v2["perms"])
    v1 = _V1.match(scope)
    if v1:
        return v1["type"], frozenset(_V1_LETTERS[v1["perms"]])
    return None


def grants(scopes: Iterable[str], resource_type: str, interaction: str) -> bool:
    """Whether the scopes together allow ``interaction`` on ``resource_type``."""
    needed = NEEDS[interaction]
    held: set[str] = set()
    for scope in scopes:
        parsed = parse(scope)
        if parsed and parsed[0] in {"*", resource_type}:
            held |= parsed[1]
    return needed <= held


def covers(allowed: Iterable[str], requested: str) -> bool:
    """Whether a requested scope is within what a client was allowed (the same or narrower)."""
    wanted = parse(requested)
    if wanted is None:
        return False
    kind, letters = wanted
    held: set[str] = set()
    for scope in allowed:
        parsed = parse(scope)
        if parsed and parsed[0] in {"*", kind}:
            held |= parsed[1]
    return letters <= held
