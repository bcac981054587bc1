"""Booking and cancelling dosing sessions, each in one transaction with its audit row.

Booking is refused while a dosing hold is active (a high C-SSRS result until a prescriber's review).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from kapstone.accounts.models import Room, Site, StaffUser
from kapstone.audit.trail import record
from kapstone.clinical.routes import Route
from kapstone.dosing.bookings import cancel_booking
from kapstone.dosing.models import DosingSession, SessionStatus
from kapstone.errors import InputError
from kapstone.patients.models import Patient
from kapstone.plans.models import TreatmentPlan
from kapstone.safety.selectors import active_hold

SHORTEST = dt.timedelta(minutes=30)
LONGEST = dt.timedelta(hours=6)


def hold_message(patient: Patient) -> str | None:
    hold = active_hold(patient)
    if hold is None:
        return None
    return (
        f"Dosing is on hold since {timezone.localtime(hold.placed_at):%d %b %Y %H:%M}: "
        f"{hold.reason}. A prescriber must document a review before another session is booked."
    )


def book_dosing_session(
    *,
    by: StaffUser | None,
    patient: Patient,
    starts_at: dt.datetime,
    duration: dt.timedelta = dt.timedelta(hours=2),
    site: Site | None = None,
    plan: TreatmentPlan | None = None,
    route: str = "",
    room: Room | None = None,
    nurse: StaffUser | None = None,
    prescriber: StaffUser | None = None,
    now: dt.datetime | None = None,
) -> DosingSession:
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if plan is not None and plan.patient_id != patient.pk:
        errors["plan"] = ["That treatment plan belongs to another patient."]
    route = route or (plan.route if plan is not None else "")
    if route and route not in {r.value for r in Route}:
        errors["route"] = [f"Unknown route {route!r}."]
    if room is not None and route and route not in room.routes:
        errors["room"] = [f"{room.name} is not equipped for {Route(route).label}."]
    if starts_at.tzinfo is None:
        errors["starts_at"] = ["Give the start time with its time zone."]
    elif starts_at < now - dt.timedelta(minutes=5):
        errors["starts_at"] = ["A session cannot be booked in the past."]
    if not SHORTEST <= duration <= LONGEST:
        errors["duration"] = [
            f"A dosing session lasts from {SHORTEST.seconds // 60} minutes to "
            f"{LONGEST.seconds // 3600} hours, including observation."
        ]
    if errors:
        raise InputError(errors)
    with transaction.atomic():
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        held = hold_message(locked)
        if held:
            raise InputError.single("", held)
        clash = DosingSession.objects.filter(
            patient=locked,
            status=SessionStatus.BOOKED,
            starts_at__lt=starts_at + duration,
            ends_at__gt=starts_at,
        ).first()
        if clash is not None:
            raise InputError.single(
                "starts_at",
                "The patient already has a session booked at "
                f"{timezone.localtime(clash.starts_at):%d %b %Y %H:%M}.",
            )
        session = DosingSession.objects.create(
            patient=locked,
            site=site or (room.site if room is not None else locked.home_site),
            plan=plan,
            route=route,
            room=room,
            nurse=nurse,
            prescriber=prescriber,
            starts_at=starts_at,
            ends_at=starts_at + duration,
            booked_by=by,
            booked_at=now,
        )
        record(
            actor=by,
            action="dosing.session_booked",
            patient=locked,
            obj=session,
            summary=f"Dosing session booked for "
            f"{timezone.localtime(starts_at):%d %b %Y %H:%M} at {session.site}",
            after={
                "starts_at": starts_at,
                "ends_at": session.ends_at,
                "site": session.site_id,
                "route": route,
                "room": session.room_id,
                "nurse": session.nurse_id,
                "prescriber": session.prescriber_id,
            },
        )
    return session


def cancel_dosing_session(
    *, by: StaffUser, session: DosingSession, reason: str, now: dt.datetime | None = None
) -> DosingSession:
    return cancel_booking(
        by=by,
        session=session,
        patient=session.patient,
        reason=reason,
        now=now,
        action="dosing.session_cancelled",
        kind="Dosing",
    )


def complete_session(*, by: StaffUser, session: DosingSession) -> DosingSession:
    """Marks a booked session completed. The chair-side signature calls this inside its own
    transaction, so the record is locked and its session completed together or not at all.

    A session that is no longer booked (cancelled meanwhile, or already completed) is left as it
    is, without an audit row: only a change is recorded."""
    with transaction.atomic():
        # One conditional UPDATE: two signatures racing cannot both complete the session.
        changed = DosingSession.objects.filter(pk=session.pk, status=SessionStatus.BOOKED).update(
            status=SessionStatus.COMPLETED
        )
        completed = DosingSession.objects.select_related("patient").get(pk=session.pk)
        if changed:
            record(
                actor=by,
                action="dosing.session_completed",
                patient=completed.patient,
                obj=completed,
                summary="Dosing session of "
                f"{timezone.localtime(completed.starts_at):%d %b %Y %H:%M} completed",
                before={"status": SessionStatus.BOOKED},
                after={"status": completed.status},
            )
    return completed
