"""Dissociation ratings during the session."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.chairside import facts
from kapstone.chairside.models import ChairsideRecord, DissociationRating
from kapstone.chairside.services._common import (
    _audit_chart,
    _charting,
    _time_problems,
    _unsigned,
    _validated,
)
from kapstone.clinical.dose_moment import is_pre_dose
from kapstone.clinical.vital_signs import validate_dissociation_rating


def rate_dissociation(
    *,
    by: StaffUser,
    record: ChairsideRecord,
    scale: str,
    score: object,
    taken_at: object,
    now: dt.datetime | None = None,
) -> DissociationRating:
    now = now or timezone.now()
    errors = _unsigned(record)
    rating = _validated(
        lambda: validate_dissociation_rating(scale=scale, total=score, rated_at=taken_at), errors
    )
    if rating is not None:
        errors |= _time_problems("taken_at", rating.rated_at, record, now)
    with _charting(record, errors) as locked:
        assert rating is not None
        row = DissociationRating.objects.create(
            record=locked,
            scale=rating.scale.value,
            score=rating.total,
            taken_at=rating.rated_at,
            is_baseline=is_pre_dose(rating.rated_at, facts.first_dose_at(locked)),
            rated_by=by,
            recorded_at=now,
        )
        _audit_chart(
            by=by,
            record=locked,
            action="chairside.dissociation_rated",
            obj=row,
            summary=f"{row.get_scale_display()} {row.score} at "
            f"{timezone.localtime(row.taken_at):%H:%M}",
            after={"scale": row.scale, "score": row.score, "baseline": row.is_baseline},
        )
    return row
