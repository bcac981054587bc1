"""Checking a patient in for today's dosing session, in one transaction with its audit row."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.audit.trail import record
from kapstone.dosing.models import DosingSession, SessionStatus
from kapstone.errors import InputError
from kapstone.today.models import Arrival


def check_in(*, by: StaffUser, session: DosingSession, now: dt.datetime | None = None) -> Arrival:
    """Records that the patient has arrived for ``session`` (today's, booked, not yet checked in)."""
    now = now or timezone.now()
    if session.status != SessionStatus.BOOKED:
        raise InputError.single(
            "",
            f"Only a booked session can be checked in; this one is {session.get_status_display().lower()}.",
        )
    if timezone.localdate(session.starts_at) != timezone.localdate(now):
        raise InputError.single(
            "",
            f"This session is on {timezone.localtime(session.starts_at):%d %b %Y}: "
            "a patient is checked in on the day.",
        )
    try:
        with transaction.atomic():
            arrival = Arrival.objects.create(session=session, arrived_at=now, recorded_by=by)
            record(
                actor=by,
                action="today.checked_in",
                patient=session.patient,
                obj=session,
                summary=f"Checked in at {timezone.localtime(now):%H:%M} for the session of "
                f"{timezone.localtime(session.starts_at):%d %b %Y %H:%M}",
                after={"arrived_at": now},
            )
    except IntegrityError:
        earlier = Arrival.objects.get(session=session)
        raise InputError.single(
            "",
            f"Already checked in at {timezone.localtime(earlier.arrived_at):%H:%M} "
            f"by {earlier.recorded_by.display_name}.",
        ) from None
    return arrival
