"""Reading the journal: the patient's own entries (latest versions), the homework they track, and
the therapist's view, which holds only the entries the patient chose to share."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from kapstone.integration.models import IntegrationNote
from kapstone.integration.selectors import structure_in_force
from kapstone.journal.models import JournalEntry
from kapstone.patients.models import Patient


def _latest_versions(patient: Patient) -> QuerySet[JournalEntry]:
    return (
        JournalEntry.objects.filter(patient=patient, superseded_by__isnull=True)
        .select_related("homework_note")
        .order_by("-written_at", "-pk")
    )


def own_entries(patient: Patient) -> list[JournalEntry]:
    """The patient's entries as they stand now (each entry's latest version), newest first."""
    return list(_latest_versions(patient))


def own_entry(patient: Patient, entry_id: int) -> JournalEntry | None:
    """The latest version of the entry one of whose versions is ``entry_id``, only if it is this
    patient's (another patient's id finds nothing)."""
    version = JournalEntry.objects.filter(patient=patient, pk=entry_id).first()
    if version is None:
        return None
    return _latest_versions(patient).filter(thread=version.thread).first()


def versions(entry: JournalEntry) -> list[JournalEntry]:
    return list(JournalEntry.objects.filter(thread=entry.thread).order_by("-revision"))


def homework_note(patient: Patient) -> IntegrationNote | None:
    """The latest signed integration note: the homework the therapist set last."""
    return (
        IntegrationNote.objects.filter(patient=patient, signature__isnull=False)
        .order_by("-held_at", "-pk")
        .first()
    )


def homework_of(note: IntegrationNote | None) -> list[str]:
    """The note's homework, one assignment per line (an addendum's correction if there is one)."""
    if note is None:
        return []
    structure, _ = structure_in_force(note)
    return list(structure.homework)


@dataclass(frozen=True)
class HomeworkLine:
    assignment: str
    done: bool | None  # None: not ticked yet
    note: str
    ticked_at: object = None


def homework_progress(
    patient: Patient, note: IntegrationNote | None, *, shared_only: bool
) -> list[HomeworkLine]:
    """Each assignment of ``note`` with its latest tick (from the newest entry tracking the note;
    for staff, only from entries the patient shares)."""
    assignments = homework_of(note)
    if note is None:
        return []
    entries = _latest_versions(patient).filter(homework_note=note)
    if shared_only:
        entries = entries.filter(shared_with_therapist=True)
    ticks: dict[str, tuple[bool | None, str, object]] = {}
    for entry in entries.order_by("written_at", "pk"):  # oldest first: newer ticks win
        for item in entry.homework:
            if item.get("done") is not None or item.get("note"):
                ticks[item["assignment"]] = (
                    item.get("done"),
                    item.get("note", ""),
                    entry.written_at,
                )
    return [
        HomeworkLine(a, *ticks[a]) if a in ticks else HomeworkLine(a, None, "") for a in assignments
    ]


@dataclass(frozen=True)
class TherapistPanel:
    """What the therapist sees beside the next integration note: shared entries only (not even
    a count of the private ones)."""

    entries: list[JournalEntry]
    homework_note: IntegrationNote | None
    homework: list[HomeworkLine]


def therapist_panel(patient: Patient, *, limit: int = 20) -> TherapistPanel:
    latest = _latest_versions(patient)
    note = homework_note(patient)
    return TherapistPanel(
        entries=list(latest.filter(shared_with_therapist=True)[:limit]),
        homework_note=note,
        homework=homework_progress(patient, note, shared_only=True),
    )
