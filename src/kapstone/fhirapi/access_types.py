"""The caller of the FHIR API as the views see it (re-exported by :mod:`kapstone.fhirapi.access`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class ApiCaller:
    client_id: str  # the registered client's id (the JWT iss/sub)
    label: str  # the client's name for the audit trail
    scopes: frozenset[str]  # SMART v2 (or v1) system scopes granted in this token


def token_hash(token: str) -> str:
    """What is stored of an access token: its SHA-256 (the token itself is never kept)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
