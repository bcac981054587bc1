"""Addenda to a signed record."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.chairside.models import ChairsideRecord, SessionAddendum
from kapstone.chairside.services._common import _audit_chart, _raise, _text_problems


def add_addendum(
    *,
    by: StaffUser,
    record: ChairsideRecord,
    reason: str,
    text: str,
    now: dt.datetime | None = None,
) -> SessionAddendum:
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if not record.is_signed:
        errors[""] = ["The record is not signed yet: chart the correction directly."]
    if not reason.strip():
        errors["reason"] = ["Say why the addendum is added."]
    if not text.strip():
        errors["text"] = ["Write the addendum."]
    errors |= _text_problems(text=text)
    _raise(errors)
    with transaction.atomic():
        addendum = SessionAddendum.objects.create(
            record=record, reason=reason.strip()[:300], text=text.strip(), by=by, at=now
        )
        _audit_chart(
            by=by,
            record=record,
            action="chairside.addendum",
            obj=addendum,
            summary=f"Addendum: {addendum.reason}",
            after={"reason": addendum.reason, "text": addendum.text},
        )
    return addendum
