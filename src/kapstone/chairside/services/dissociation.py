"""Dissociation ratings during the session."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.audit.trail import record as audit
from kapstone.chairside import facts
from kapstone.chairside.models import ChairsideRecord, DissociationRating
from kapstone.chairside.services._common import (
    _core_problems,
    _locked,
    _raise,
    _time_problems,
    _unsigned,
)
from kapstone.clinical.dose_moment import is_pre_dose
from kapstone.clinical.vital_signs import InvalidVitalSign, validate_dissociation_rating


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
    try:
        rating = validate_dissociation_rating(scale=scale, total=score, rated_at=taken_at)
    except InvalidVitalSign as exc:
        errors |= _core_problems(exc)
        rating = None
    if rating is not None:
        errors |= _time_problems("taken_at", rating.rated_at, record, now)
    _raise(errors)
    assert rating is not None
    with transaction.atomic():
        locked = _locked(record)
        first = facts.first_dose_at(locked)
        row = DissociationRating.objects.create(
            record=locked,
            scale=rating.scale.value,
            score=rating.total,
            taken_at=rating.rated_at,
            is_baseline=is_pre_dose(rating.rated_at, first),
            rated_by=by,
            recorded_at=now,
        )
        audit(
            actor=by,
            action="chairside.dissociation_rated",
            patient=locked.session.patient,
            obj=row,
            summary=f"{row.get_scale_display()} {row.score} at "
            f"{timezone.localtime(row.taken_at):%H:%M}",
            after={"scale": row.scale, "score": row.score, "baseline": row.is_baseline},
        )
    return row
