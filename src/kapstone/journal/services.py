"""Writing the journal: a new entry, or a new version of one (nothing is changed in place), each
in one transaction with its audit entry, as the patient's own act. Changing whom an entry is
shared with is recorded. Staff reading shared entries is audited as a read (``journal.viewed``)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from kapstone.accounts.models import StaffUser
from kapstone.audit.trail import record
from kapstone.companion.models import PatientAccount
from kapstone.errors import InputError
from kapstone.integration.models import IntegrationNote
from kapstone.journal.models import JournalEntry
from kapstone.journal.selectors import homework_of
from kapstone.patients.models import Patient

MAX_TEXT = 20_000


@dataclass(frozen=True)
class HomeworkTick:
    """The patient's answer on one assignment: done (True), not yet (False) or not said (None)."""

    assignment: str
    done: bool | None
    note: str = ""


def _check(
    *,
    text: str,
    mood: int | None,
    note: IntegrationNote | None,
    ticks: Sequence[HomeworkTick],
    patient: Patient,
) -> list[dict[str, object]]:
    errors: dict[str, list[str]] = {}
    if len(text) > MAX_TEXT:
        errors["text"] = [_("This entry is too long: keep it under 20,000 characters.")]
    if mood is not None and not 1 <= mood <= 10:
        errors["mood"] = [_("Choose a mood from 1 to 10, or leave it empty.")]
    homework: list[dict[str, object]] = []
    if note is not None and note.patient_id != patient.pk:
        raise InputError.single("", _("This homework is not yours."))
    assignments = homework_of(note)
    unknown = [t.assignment for t in ticks if t.assignment not in assignments]
    if unknown:
        errors["homework"] = [_("The homework changed while you were writing: please look again.")]
    by_assignment = {t.assignment: t for t in ticks}
    for assignment in assignments:
        tick = by_assignment.get(assignment, HomeworkTick(assignment, None))
        homework.append({"assignment": assignment, "done": tick.done, "note": tick.note.strip()})
    if (
        not text.strip()
        and mood is None
        and not any(h["done"] is not None or h["note"] for h in homework)
    ):
        errors["text"] = [_("Write something, choose a mood or tick your homework first.")]
    if errors:
        raise InputError(errors)
    return homework


def write_entry(
    *,
    account: PatientAccount,
    text: str,
    mood: int | None,
    shared_with_therapist: bool,
    homework_note: IntegrationNote | None,
    ticks: Sequence[HomeworkTick],
    at: dt.datetime,
    supersedes: JournalEntry | None = None,
) -> JournalEntry:
    """A new entry, or (``supersedes``) a new version of the patient's own latest version."""
    patient = account.patient
    homework = _check(text=text, mood=mood, note=homework_note, ticks=ticks, patient=patient)
    if supersedes is not None:
        if supersedes.patient_id != patient.pk:
            raise InputError.single("", _("This entry is not yours."))
        if JournalEntry.objects.filter(supersedes=supersedes).exists():
            raise InputError.single(
                "", _("This entry was changed meanwhile (another window?). Open it again.")
            )
    with transaction.atomic():
        entry = JournalEntry.objects.create(
            patient=patient,
            account=account,
            thread=supersedes.thread if supersedes else uuid.uuid4(),
            revision=supersedes.revision + 1 if supersedes else 1,
            supersedes=supersedes,
            text=text.strip(),
            mood=mood,
            shared_with_therapist=shared_with_therapist,
            homework_note=homework_note,
            homework=homework,
            written_at=at,
        )
        sharing = _("shared with the therapist") if shared_with_therapist else _("private")
        record(
            actor=None,
            actor_label=account.audit_label,
            action="journal.entry_written" if supersedes is None else "journal.entry_revised",
            patient=patient,
            obj=entry,
            summary=f"Journal entry version {entry.revision} ({sharing})",
        )
        if supersedes is not None and supersedes.shared_with_therapist != shared_with_therapist:
            record(
                actor=None,
                actor_label=account.audit_label,
                action="journal.sharing_changed",
                patient=patient,
                obj=entry,
                summary=(
                    "Journal entry now shared with the therapist"
                    if shared_with_therapist
                    else "Journal entry made private again"
                ),
                before={"shared_with_therapist": supersedes.shared_with_therapist},
                after={"shared_with_therapist": shared_with_therapist},
            )
    return entry


def record_own_read(*, account: PatientAccount, what: str) -> None:
    record(
        actor=None,
        actor_label=account.audit_label,
        action="journal.own_viewed",
        patient=account.patient,
        summary=f"Read their own journal ({what})",
    )


def record_staff_read(*, by: StaffUser, patient: Patient, shown: int) -> None:
    """A member of staff saw the shared entries (beside an integration note): a read event."""
    record(
        actor=by,
        action="journal.viewed",
        patient=patient,
        summary=f"Viewed {shown} journal entries the patient shares, and their homework",
    )
