"""Booking and cancelling integration sessions, each in one transaction with its audit row."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from kapstone.accounts.models import Room, Site, StaffUser
from kapstone.audit.trail import record
from kapstone.clinical.access import Modality
from kapstone.dosing.models import DosingSession
from kapstone.errors import InputError
from kapstone.integration.models import IntegrationSession, IntegrationStatus
from kapstone.patients.models import Patient

# The programs run 60–90 minute integration sessions (seeds); a wider range allows a short check-in
# or a double session without letting a typo book a day-long appointment.
SHORTEST = dt.timedelta(minutes=30)
LONGEST = dt.timedelta(hours=3)


def book_integration_session(
    *,
    by: StaffUser | None,
    patient: Patient,
    starts_at: dt.datetime,
    duration: dt.timedelta = dt.timedelta(minutes=90),
    therapist: StaffUser | None = None,
    modality: str = "",
    dosing_session: DosingSession | None = None,
    site: Site | None = None,
    room: Room | None = None,
    now: dt.datetime | None = None,
) -> IntegrationSession:
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if starts_at.tzinfo is None:
        errors["starts_at"] = ["Give the start time with its time zone."]
    elif starts_at < now - dt.timedelta(minutes=5):
        errors["starts_at"] = ["A session cannot be booked in the past."]
    if not SHORTEST <= duration <= LONGEST:
        errors["duration"] = [
            f"An integration session lasts from {SHORTEST.seconds // 60} minutes to "
            f"{LONGEST.seconds // 3600} hours."
        ]
    if modality and modality not in {m.value for m in Modality}:
        errors["modality"] = [f"Unknown modality {modality!r}."]
    if dosing_session is not None:
        if dosing_session.patient_id != patient.pk:
            errors["dosing_session"] = ["That dosing session belongs to another patient."]
        elif starts_at.tzinfo is not None and starts_at < dosing_session.starts_at:
            errors["starts_at"] = [
                "Integration follows its dosing session; it cannot start before it."
            ]
    if errors:
        raise InputError(errors)
    with transaction.atomic():
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        clash = IntegrationSession.objects.filter(
            patient=locked,
            status=IntegrationStatus.BOOKED,
            starts_at__lt=starts_at + duration,
            ends_at__gt=starts_at,
        ).first()
        if clash is not None:
            raise InputError.single(
                "starts_at",
                "The patient already has an integration session at "
                f"{timezone.localtime(clash.starts_at):%d %b %Y %H:%M}.",
            )
        session = IntegrationSession.objects.create(
            patient=locked,
            dosing_session=dosing_session,
            therapist=therapist,
            modality=modality,
            site=site
            or (room.site if room is not None else None)
            or (dosing_session.site if dosing_session is not None else locked.home_site),
            room=room,
            starts_at=starts_at,
            ends_at=starts_at + duration,
            booked_by=by,
            booked_at=now,
        )
        record(
            actor=by,
            action="integration.session_booked",
            patient=locked,
            obj=session,
            summary=f"Integration session booked for {timezone.localtime(starts_at):%d %b %Y %H:%M}",
            after={
                "starts_at": starts_at,
                "ends_at": session.ends_at,
                "therapist": session.therapist_id,
                "modality": modality,
                "dosing_session": session.dosing_session_id,
            },
        )
    return session


def cancel_integration_session(
    *, by: StaffUser, session: IntegrationSession, reason: str, now: dt.datetime | None = None
) -> IntegrationSession:
    now = now or timezone.now()
    if not reason.strip():
        raise InputError.single("reason", "Say why the session is cancelled.")
    with transaction.atomic():
        locked = IntegrationSession.objects.select_for_update().get(pk=session.pk)
        if locked.status != IntegrationStatus.BOOKED:
            raise InputError.single(
                "", f"Only a booked session can be cancelled; this one is {locked.status}."
            )
        locked.status = IntegrationStatus.CANCELLED
        locked.cancelled_by = by
        locked.cancelled_at = now
        locked.cancel_reason = reason.strip()[:300]
        locked.save(update_fields=["status", "cancelled_by", "cancelled_at", "cancel_reason"])
        record(
            actor=by,
            action="integration.session_cancelled",
            patient=locked.patient,
            obj=locked,
            summary=f"Integration session of {timezone.localtime(locked.starts_at):%d %b %Y %H:%M} "
            f"cancelled: {locked.cancel_reason}",
            before={"status": IntegrationStatus.BOOKED},
            after={"status": locked.status, "reason": locked.cancel_reason},
        )
    return locked
