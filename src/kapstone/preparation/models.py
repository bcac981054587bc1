"""The patient's own ticks on the preparation checklist of a dosing session: written once.

A tick is a row (the session, the item, yes or no, an optional note, when, and the patient's
companion account that gave it). Changing an answer adds a row and the latest counts, so the nurse
at the chair side can see what the patient said and when, and nothing the patient said is lost.
"""

from __future__ import annotations

from django.db import models

from kapstone.kernel.append_only import AppendOnly


class PreparationAnswer(AppendOnly):
    session = models.ForeignKey(
        "dosing.DosingSession", on_delete=models.PROTECT, related_name="preparation_answers"
    )
    # A key of kapstone.preparation.checklist.ITEMS (kept as text: an item retired from the list
    # keeps its old answers readable).
    item = models.CharField(max_length=40)
    answer = models.BooleanField()
    note = models.CharField(max_length=300, blank=True)
    answered_at = models.DateTimeField()
    answered_by = models.ForeignKey(
        "companion.PatientAccount", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["answered_at", "pk"]
        indexes = [models.Index(fields=["session", "item", "answered_at"])]

    def __str__(self) -> str:
        return f"Preparation {self.item} on session {self.session_id}: {self.answer}"
