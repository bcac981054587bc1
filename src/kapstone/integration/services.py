"""Booking and cancelling integration sessions; the therapist's notes on them (drafts, signing,
addenda); psychotherapy process notes and who may read them. Each write is one transaction with
its audit row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from django.db import transaction
from django.utils import timezone

from kapstone.accounts.models import Room, Site, StaffUser
from kapstone.audit.trail import record
from kapstone.billing.services import propose_charges_for_integration_note
from kapstone.clinical.access import Modality, Permission, Role, roles_granted
from kapstone.clinical.integration_notes import (
    DEFAULT_WINDOW,
    IntegrationWindow,
    NoteWarning,
    dosing_session_before,
    note_warnings,
    parse_structured,
    window_from_template,
)
from kapstone.clinical.plausibility import MAX_NOTE_CHARS, text_problem
from kapstone.clinical.problems import Problem
from kapstone.dosing.bookings import cancel_booking
from kapstone.dosing.models import DosingSession
from kapstone.dosing.selectors import dose_time_of, with_dose_time
from kapstone.errors import InputError, problem_errors
from kapstone.integration.models import (
    IntegrationNote,
    IntegrationNoteAddendum,
    IntegrationNoteSignature,
    IntegrationSession,
    IntegrationStatus,
    ProcessNote,
    ProcessNoteAccess,
)
from kapstone.patients.models import Patient
from kapstone.plans.models import TreatmentPlan
from kapstone.plans.selectors import SignedPlan, signed_plan

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
    elif starts_at < now - dt.timedelta(minutes=5) and not (
        # Recording a session already held after its dose (a dose given outside the scheduler):
        # it cannot have begun before the dose did, which is checked below.
        dosing_session is not None and dosing_session.starts_at <= starts_at <= now
    ):
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
    return cancel_booking(
        by=by,
        session=session,
        patient=session.patient,
        reason=reason,
        now=now,
        action="integration.session_cancelled",
        kind="Integration",
    )


# --- integration notes ---------------------------------------------------------------------------

# A note may be written a little before the session's end is typed in; not for a future session.
CLOCK_SLACK = dt.timedelta(minutes=5)


def _problems_to_errors(problems: Sequence[Problem]) -> dict[str, list[str]]:
    return problem_errors(problems, say=lambda p: p.message)


def _writer_errors(by: StaffUser) -> dict[str, list[str]]:
    if by.staff_role is not Role.THERAPIST:
        return {
            "": [
                "Integration notes are written by the therapist who held the session, not a "
                f"{by.staff_role.label.lower()}."
            ]
        }
    return {}


def _locked_session(session: IntegrationSession) -> IntegrationSession:
    """The session read afresh under its row lock (a signature made meanwhile must stop a second
    note), with what the note needs beside it; refused when it takes no more notes."""
    current = (
        # of=("self",): PostgreSQL cannot lock the nullable side of the dosing session's outer join.
        IntegrationSession.objects.select_for_update(of=("self",))
        .select_related("patient", "dosing_session")
        .get(pk=session.pk)
    )
    if current.status == IntegrationStatus.CANCELLED:
        raise InputError.single("", "This integration session was cancelled: it takes no note.")
    if IntegrationNoteSignature.objects.filter(session_id=session.pk).exists():
        raise InputError.single(
            "", "The note on this session is signed: correct it with an addendum."
        )
    return current


def save_note(
    *,
    by: StaffUser,
    session: IntegrationSession,
    held_at: dt.datetime,
    minutes: int,
    structured: Mapping[str, object],
    narrative: str = "",
    now: dt.datetime | None = None,
) -> IntegrationNote:
    """Saves the therapist's note on a session as a new draft version (the first, or one that
    replaces the latest draft). The structured part is checked by the core; every problem comes
    back keyed by its field ("emdr.sud_before")."""
    now = now or timezone.now()
    errors = _writer_errors(by)
    if held_at.tzinfo is None:
        errors["held_at"] = ["Give the time with its time zone."]
    elif held_at > now + CLOCK_SLACK:
        errors["held_at"] = ["A note is written about a session that has begun, not a future one."]
    if not 1 <= minutes <= LONGEST.seconds // 60:
        errors["minutes"] = [
            f"{minutes} minutes is not a session length; accepts 1 to {LONGEST.seconds // 60}."
        ]
    note_data, problems = parse_structured(structured)
    errors |= _problems_to_errors(problems)
    if len(narrative) > MAX_NOTE_CHARS:
        errors["narrative"] = [f"The narrative is longer than {MAX_NOTE_CHARS:,} characters."]
    if errors:
        raise InputError(errors)
    assert note_data is not None
    with transaction.atomic():
        locked = _locked_session(session)
        latest = IntegrationNote.objects.filter(session=locked).order_by("-revision").first()
        dose = dose_before(locked, held_at)
        note = IntegrationNote.objects.create(
            session=locked,
            patient=locked.patient,
            revision=(latest.revision + 1) if latest else 1,
            supersedes=latest,
            dosing_session=dose,
            held_at=held_at,
            minutes=minutes,
            modalities=[m.value for m in note_data.modalities],
            structured=note_data.to_json(),
            narrative=narrative.strip(),
            author=by,
            created_at=now,
        )
        record(
            actor=by,
            action="integration.note_saved",
            patient=locked.patient,
            obj=note,
            summary=f"Integration note version {note.revision} saved "
            f"({', '.join(note.modality_labels)})",
            after={
                "session": locked.pk,
                "revision": note.revision,
                "modalities": note.modalities,
                "held_at": held_at,
                "minutes": minutes,
                "dosing_session": dose.pk if dose else None,
            },
        )
    return note


def dose_before(session: IntegrationSession, held_at: dt.datetime) -> DosingSession | None:
    """The dose the session follows: the one it was booked after, else the patient's latest
    dosing session (not cancelled) that began at or before it."""
    if session.dosing_session_id is not None:
        return session.dosing_session
    doses = list(
        with_dose_time(DosingSession.objects.filter(patient_id=session.patient_id))
        .filter(given_at__lte=held_at)
        .values_list("pk", "given_at")
    )
    found = dosing_session_before(held_at, doses)
    return DosingSession.objects.get(pk=found[0]) if found else None


def _dose_at(session: DosingSession | None) -> dt.datetime | None:
    if session is None:
        return None
    given = dose_time_of(session)
    return given.at if given is not None else session.starts_at


def _signed_plan(patient: Patient) -> SignedPlan | None:
    """The signed plan in force; most sessions' patients have none, so ask cheaply first."""
    if not TreatmentPlan.objects.filter(patient=patient, signature__isnull=False).exists():
        return None
    return signed_plan(patient)


_UNREAD = object()


def window_for(
    note: IntegrationNote, plan: SignedPlan | object | None = _UNREAD
) -> IntegrationWindow:
    """The integration window of the program the dose was given under (its plan's template),
    else of the signed plan in force (``plan``, when the caller has read it), else the clinic's
    default."""
    dose = note.dosing_session
    if dose is not None and dose.plan is not None:
        return window_from_template(dose.plan.program.as_template().integration)
    if plan is _UNREAD:
        plan = _signed_plan(note.patient)
    if isinstance(plan, SignedPlan):
        return window_from_template(plan.template.integration)
    return DEFAULT_WINDOW


def _signing_check(note: IntegrationNote) -> tuple[tuple[NoteWarning, ...], IntegrationWindow]:
    plan = _signed_plan(note.patient)
    window = window_for(note, plan)
    warnings = note_warnings(
        dose_at=_dose_at(note.dosing_session),
        held_at=note.held_at,
        minutes=note.minutes,
        window=window,
        used=[Modality(m) for m in note.modalities],
        planned=frozenset(plan.modalities) if plan is not None else None,
        credentialed=note.author.modalities(),
    )
    return warnings, window


def signing_warnings(note: IntegrationNote) -> tuple[NoteWarning, ...]:
    """What the signer must give a reason for, from the core's rules."""
    return _signing_check(note)[0]


def sign_note(
    *,
    by: StaffUser,
    note: IntegrationNote,
    override_reason: str = "",
    now: dt.datetime | None = None,
) -> IntegrationNoteSignature:
    """Signs the latest version of a session's note: from then on it changes only by addenda, and
    the session is completed. A warning (outside the window, a length or modality outside the
    plan) is signed through only with the reason, which the signature and audit row keep."""
    now = now or timezone.now()
    errors = _writer_errors(by)
    if not errors and note.author_id != by.pk:
        errors[""] = [
            f"This version was written by {note.author.display_name}: they sign it, or you save "
            "your own version first."
        ]
    if errors:
        raise InputError(errors)
    warnings, window = _signing_check(note)
    reason = override_reason.strip()
    if warnings and not reason:
        raise InputError.single(
            "override_reason",
            "Say why you sign despite: " + " ".join(w.message for w in warnings),
        )
    if (problem := text_problem(reason, "The reason")) is not None:
        raise InputError.single("override_reason", problem)
    with transaction.atomic():
        session = _locked_session(note.session)
        latest = IntegrationNote.objects.filter(session=session).order_by("-revision").first()
        if latest is None or latest.pk != note.pk:
            raise InputError.single(
                "",
                f"Version {note.revision} was replaced by version "
                f"{latest.revision if latest else '?'}: sign the latest version.",
            )
        signature = IntegrationNoteSignature.objects.create(
            note=note,
            session=session,
            signed_by=by,
            signed_at=now,
            warnings=[{"code": w.code.value, "message": w.message} for w in warnings],
            override_reason=reason if warnings else "",
            window={
                "within_hours": window.within_hours,
                "minutes_min": window.minutes_min,
                "minutes_max": window.minutes_max,
                "source": window.source.cite(),
            },
        )
        before_status = session.status
        session.status = IntegrationStatus.COMPLETED
        session.save(update_fields=["status"])
        record(
            actor=by,
            action="integration.note_signed",
            patient=session.patient,
            obj=signature,
            summary=f"Integration note version {note.revision} signed; session completed"
            + (f"; signed despite {len(warnings)} warning(s): {reason}" if warnings else ""),
            before={"status": before_status},
            after={
                "status": session.status,
                "note": note.pk,
                "warnings": [w.code.value for w in warnings],
                "override_reason": signature.override_reason,
            },
        )
        propose_charges_for_integration_note(note=note, by=by, now=now)  # never refuses
    return signature


def add_addendum(
    *,
    by: StaffUser,
    note: IntegrationNote,
    text: str,
    reason: str,
    structured: Mapping[str, object] | None = None,
    now: dt.datetime | None = None,
) -> IntegrationNoteAddendum:
    """A correction to a signed note: its text and reason, and optionally the corrected structured
    part (checked by the core like the note), which the trend reads from then on."""
    now = now or timezone.now()
    errors = _writer_errors(by)
    if not text.strip():
        errors["text"] = ["Write the addendum."]
    elif len(text) > MAX_NOTE_CHARS:
        errors["text"] = [f"Keep the addendum to {MAX_NOTE_CHARS:,} characters."]
    if not reason.strip():
        errors["reason"] = ["Say why the signed note is corrected or added to."]
    elif (problem := text_problem(reason, "The reason")) is not None:
        errors["reason"] = [problem]
    corrected = None
    if structured is not None:
        corrected, problems = parse_structured(structured)
        errors |= _problems_to_errors(problems)
    if not IntegrationNoteSignature.objects.filter(note_id=note.pk).exists():
        errors.setdefault("", []).append(
            "Only a signed note takes addenda; a draft is changed by saving it again."
        )
    if errors:
        raise InputError(errors)
    with transaction.atomic():
        addendum = IntegrationNoteAddendum.objects.create(
            note=note,
            text=text.strip(),
            reason=reason.strip(),
            structured=corrected.to_json() if corrected else None,
            modalities=[m.value for m in corrected.modalities] if corrected else None,
            author=by,
            created_at=now,
        )
        record(
            actor=by,
            action="integration.note_addendum",
            patient=note.patient,
            obj=addendum,
            summary=f"Addendum to integration note version {note.revision}"
            + (" correcting its structured record" if corrected else "")
            + f": {reason.strip()}",
            after={
                "note": note.pk,
                "reason": addendum.reason,
                "corrects_structured": corrected is not None,
            },
        )
    return addendum


# --- psychotherapy process notes -----------------------------------------------------------------
# Their text goes into no audit summary and no before/after: the trail says that a note was
# written or read, by whom, on which patient, never what it says.


def write_process_note(
    *,
    by: StaffUser,
    patient: Patient,
    text: str,
    session: IntegrationSession | None = None,
    now: dt.datetime | None = None,
) -> ProcessNote:
    now = now or timezone.now()
    errors = {}
    if by.staff_role is not Role.THERAPIST:
        errors[""] = ["Process notes are a therapist's own notes."]
    if not text.strip():
        errors["text"] = ["Write the note."]
    elif len(text) > MAX_NOTE_CHARS:
        errors["text"] = [f"Keep the note to {MAX_NOTE_CHARS:,} characters."]
    if session is not None and session.patient_id != patient.pk:
        errors["session"] = ["That integration session belongs to another patient."]
    if errors:
        raise InputError(errors)
    with transaction.atomic():
        note = ProcessNote.objects.create(
            patient=patient, author=by, session=session, text=text.strip(), written_at=now
        )
        record(
            actor=by,
            action="integration.process_note_written",
            patient=patient,
            obj=note,
            summary="Psychotherapy process note written",
        )
    return note


def record_process_note_read(*, by: StaffUser, note: ProcessNote) -> None:
    record(
        actor=by,
        action="integration.process_note_viewed",
        patient=note.patient,
        obj=note,
        summary="Psychotherapy process note opened"
        + ("" if note.author_id == by.pk else " by a colleague the author granted"),
    )


def set_process_note_access(
    *,
    by: StaffUser,
    patient: Patient,
    grantee: StaffUser,
    granted: bool,
    now: dt.datetime | None = None,
) -> ProcessNoteAccess:
    """The author grants a colleague reading of their process notes on this patient, or revokes
    it. Only roles that may be granted (READ_PROCESS_NOTES) can be; the author decides."""
    now = now or timezone.now()
    from kapstone.integration.selectors import process_note_grantees

    if by.staff_role is not Role.THERAPIST:
        raise InputError.single("", "Only a therapist keeping process notes grants access to them.")
    if grantee.pk == by.pk:
        raise InputError.single("grantee", "You always read your own process notes.")
    if not grantee.is_active or grantee.staff_role not in roles_granted(
        Permission.READ_PROCESS_NOTES
    ):
        raise InputError.single(
            "grantee",
            f"A {grantee.staff_role.label.lower()} cannot be given process notes; accepts an "
            "active therapist, prescriber or medical director.",
        )
    current = grantee.pk in {g.pk for g in process_note_grantees(author=by, patient=patient)}
    if current == granted:
        raise InputError.single(
            "grantee",
            f"{grantee.display_name} {'already reads' if granted else 'has no access to'} "
            "your process notes on this patient.",
        )
    with transaction.atomic():
        row = ProcessNoteAccess.objects.create(
            patient=patient, author=by, grantee=grantee, granted=granted, at=now
        )
        record(
            actor=by,
            action="integration.process_notes_granted"
            if granted
            else "integration.process_notes_revoked",
            patient=patient,
            obj=row,
            summary=f"Process notes on this patient {'shared with' if granted else 'no longer shared with'} "
            f"{grantee.display_name}",
            after={"grantee": grantee.pk, "granted": granted},
        )
    return row
