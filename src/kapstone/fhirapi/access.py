"""Who is calling the FHIR API, and whether their token's scopes allow what they ask.

The contract the read/search views and the Bulk export build on:

* :func:`authorise` turns the ``Authorization: Bearer`` header into an :class:`ApiCaller` (one
  indexed query: the token's SHA-256 is unique) or raises :class:`FhirProblem` 401 ``login`` (no,
  unknown, expired token, disabled client) or 403 ``forbidden`` (scopes do not cover it).
* :func:`audit_api_read` writes what a caller was given to the audit trail.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.http import HttpRequest
from django.utils import timezone

from kapstone.fhirapi import scopes as smart_scopes
from kapstone.fhirapi.access_types import ApiCaller, token_hash
from kapstone.fhirapi.outcome import FhirProblem
from kapstone.fhirapi.selectors import caller_for_token
from kapstone.fhirapi.services import record_api_read

__all__ = ["ApiCaller", "audit_api_read", "authorise", "caller"]


def bearer_token(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    kind, _, value = header.partition(" ")
    if kind.lower() != "bearer" or not value.strip():
        raise FhirProblem(401, "login", "An access token is needed: Authorization: Bearer <token>")
    return value.strip()


def caller(request: HttpRequest) -> ApiCaller:
    """The caller a valid, unexpired token belongs to (401 ``login`` otherwise)."""
    found = caller_for_token(token_hash(bearer_token(request)), now=timezone.now())
    if found is None:
        raise FhirProblem(401, "login", "The access token is unknown or has expired")
    return found


def authorise(request: HttpRequest, *, resource_type: str, interaction: str) -> ApiCaller:
    """The caller, if its token allows ``interaction`` (read, search, export) on the type."""
    if interaction not in smart_scopes.NEEDS:
        raise ValueError(f"unknown interaction {interaction!r}")
    who = caller(request)
    if not smart_scopes.grants(who.scopes, resource_type, interaction):
        letters = "".join(sorted(smart_scopes.NEEDS[interaction], key="cruds".index))
        raise FhirProblem(
            403,
            "forbidden",
            f"The token's scopes do not allow {interaction} of {resource_type} "
            f"(needs system/{resource_type}.{letters} or system/*.{letters})",
        )
    return who


def audit_api_read(
    *,
    caller: ApiCaller,
    resource_type: str,
    interaction: str,
    resource_ids: Sequence[str],
    patient_ids: Sequence[int],
    query: str,
) -> None:
    """One audit row per request, listing the patients and resources given out.

    One row per request, not per patient: each audit row takes the trail's head lock and extends
    its hash chain, so a 1000-resource search writing a row per patient would serialise hundreds of
    locked writes behind every search. The row names the patient when there is exactly one (so a
    single-patient read shows in that patient's trail) and lists every patient id in ``after``.
    """
    record_api_read(
        caller=caller,
        resource_type=resource_type,
        interaction=interaction,
        resource_ids=list(resource_ids),
        patient_ids=list(patient_ids),
        query=query,
    )
