"""Reads of the chair-side record, for the console and for other apps."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum

from kapstone.chairside.models import ChairsideRecord, DissociationRating, DoseAdministration


@dataclass(frozen=True, slots=True)
class SessionDoseFacts:
    """What a trend beside a course needs from one session: the dose given and peak dissociation."""

    session_id: int
    route: str
    dose_mg: Decimal | None  # total given in the session; None when no dose is charted
    dissociation_scale: str | None  # DissociationScale value ("cadss" or "cadss_6")
    dissociation_score: int | None  # the peak (highest) rating after dosing on that scale


def dose_and_dissociation(session_ids: Iterable[int]) -> dict[int, SessionDoseFacts]:
    """Dose and peak dissociation per dosing session, for sessions with a chair-side record.

    Three queries whatever the number of sessions. Pre-dose (baseline) ratings are not peaks.
    """
    ids = list(session_ids)
    if not ids:
        return {}
    records = dict(
        ChairsideRecord.objects.filter(session_id__in=ids).values_list("pk", "session_id")
    )
    routes = dict(ChairsideRecord.objects.filter(pk__in=records).values_list("pk", "route"))
    doses = dict(
        DoseAdministration.objects.filter(record_id__in=records)
        .values("record_id")
        .annotate(total=Sum("dose_mg"))
        .values_list("record_id", "total")
    )
    peaks: dict[int, tuple[str, int]] = {}
    for record_id, scale, score in (
        DissociationRating.objects.filter(record_id__in=records, is_baseline=False)
        .order_by("record_id", "score")
        .values_list("record_id", "scale", "score")
    ):
        peaks[record_id] = (scale, score)  # ordered by score: the last one seen is the peak
    facts: dict[int, SessionDoseFacts] = {}
    for record_id, session_id in records.items():
        peak = peaks.get(record_id)
        facts[session_id] = SessionDoseFacts(
            session_id=session_id,
            route=routes[record_id],
            dose_mg=doses.get(record_id),
            dissociation_scale=peak[0] if peak else None,
            dissociation_score=peak[1] if peak else None,
        )
    return facts
