"""Cancelling a booked session, of either kind (a dose, or the integration talk after it): the same
checks, the same locked change and the same audit row, so the two cannot drift apart."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.audit.trail import record
from kapstone.clinical.plausibility import text_problem
from kapstone.errors import InputError
from kapstone.kernel.bookings import BookedSession, BookingStatus
from kapstone.patients.models import Patient


def cancel_booking[Session: BookedSession](
    *,
    by: StaffUser,
    session: Session,
    patient: Patient,
    reason: str,
    now: dt.datetime | None,
    action: str,
    kind: str,
) -> Session:
    """Cancels ``session`` (a booked one only) for ``reason``; ``kind`` names it in the audit
    summary ("Dosing", "Integration") and ``action`` is its audit action."""
    now = now or timezone.now()
    if not reason.strip():
        raise InputError.single("reason", "Say why the session is cancelled.")
    if (problem := text_problem(reason, "The reason")) is not None:
        raise InputError.single("reason", problem)
    with transaction.atomic():
        locked = type(session)._default_manager.select_for_update().get(pk=session.pk)
        if locked.status != BookingStatus.BOOKED:
            raise InputError.single(
                "", f"Only a booked session can be cancelled; this one is {locked.status}."
            )
        locked.status = BookingStatus.CANCELLED
        locked.cancelled_by = by
        locked.cancelled_at = now
        locked.cancel_reason = reason.strip()[:300]
        locked.save(update_fields=["status", "cancelled_by", "cancelled_at", "cancel_reason"])
        record(
            actor=by,
            action=action,
            patient=patient,
            obj=locked,
            summary=f"{kind} session of {timezone.localtime(locked.starts_at):%d %b %Y %H:%M} "
            f"cancelled: {locked.cancel_reason}",
            before={"status": BookingStatus.BOOKED},
            after={"status": locked.status, "reason": locked.cancel_reason},
        )
    return locked
