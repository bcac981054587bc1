"""The patient's integration journal: reflections between sessions and the homework they track.

Each :class:`JournalEntry` row is one version of an entry; an edit is a newer version in the same
``thread`` (the latest is the entry), so what the patient wrote, and whom they let read it, stays as
it was written. Rows are written once (:class:`~kapstone.kernel.append_only.AppendOnly`, with the
database's triggers).

The patient chooses per entry whether their therapist may read it; the default is private. A
private entry is never shown to staff, and no journal row is ever exported (research, FHIR).
"""

from __future__ import annotations

import uuid

from django.db import models

from kapstone.kernel.append_only import AppendOnly
from kapstone.kernel.append_only import AppendOnlyError as AppendOnlyError  # what save() raises


class JournalEntry(AppendOnly):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="journal_entries"
    )
    account = models.ForeignKey(
        "companion.PatientAccount", on_delete=models.PROTECT, related_name="journal_entries"
    )
    # The versions of one entry share a thread; revision counts them from 1.
    thread = models.UUIDField(default=uuid.uuid4)
    revision = models.PositiveIntegerField()
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    text = models.TextField(blank=True)
    mood = models.PositiveSmallIntegerField(null=True, blank=True)  # 1 (very low) to 10 (very good)
    shared_with_therapist = models.BooleanField(default=False)
    # The signed integration note whose homework this entry tracks, and the patient's ticks:
    # [{"assignment": "...", "done": true | false | null, "note": "..."}], one per homework line.
    homework_note = models.ForeignKey(
        "integration.IntegrationNote",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    homework = models.JSONField(default=list)
    written_at = models.DateTimeField()

    class Meta:
        ordering = ["-written_at", "-pk"]
        indexes = [models.Index(fields=["patient", "written_at"])]
        constraints = [
            models.UniqueConstraint(fields=["thread", "revision"], name="journal_thread_revision"),
            models.CheckConstraint(
                condition=models.Q(mood__isnull=True) | models.Q(mood__gte=1, mood__lte=10),
                name="journal_mood_1_to_10",
            ),
        ]

    def __str__(self) -> str:
        return f"Journal entry {self.thread} v{self.revision} (patient {self.patient_id})"

    @property
    def done_count(self) -> int:
        return sum(1 for item in self.homework if item.get("done") is True)
