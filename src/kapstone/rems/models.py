"""Spravato REMS Patient Monitoring Forms: the form filled from a signed esketamine session, and
the record that the clinic filed it on the REMS portal.

A form is a snapshot: the fields as :func:`kapstone.clinical.rems_pmf.fill_pmf` filled them from
the signed session, with the schema version, so the PDF shows what was prepared even if the form
changes revision later. Filing is its own row (who recorded it, when it was filed and the REMS
confirmation number or a note), so nothing about a form row changes when it is filed. Both are
:class:`~kapstone.kernel.append_only.AppendOnly`: the models and the database's triggers refuse
UPDATE and DELETE.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from kapstone.clinical.rems_pmf import FilledPmf
from kapstone.kernel.append_only import AppendOnly
from kapstone.kernel.append_only import AppendOnlyError as AppendOnlyError  # what save() raises


class RemsForm(AppendOnly):
    session = models.OneToOneField(
        "dosing.DosingSession", on_delete=models.PROTECT, related_name="rems_form"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="rems_forms"
    )
    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")
    schema_version = models.CharField(max_length=60)
    # FilledPmf.to_json(): every field's value or its missing reason, and the warnings.
    filled = models.JSONField()
    complete = models.BooleanField()
    session_date = models.DateField()
    due_on = models.DateField()
    created_at = models.DateTimeField()
    # None: prepared by the scheduled task, not by a person.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["due_on", "pk"]
        indexes = [models.Index(fields=["due_on"]), models.Index(fields=["patient", "due_on"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(due_on__gt=models.F("session_date")),
                name="rems_form_due_after_session",
            )
        ]

    def __str__(self) -> str:
        return f"REMS monitoring form for dosing session {self.session_id}"

    @property
    def pmf(self) -> FilledPmf:
        return FilledPmf.from_json(self.filled)

    @property
    def is_filed(self) -> bool:
        return hasattr(self, "filing")


class RemsFiling(AppendOnly):
    """The clinic filed the form on the REMS portal (or by fax): recorded once."""

    form = models.OneToOneField(RemsForm, on_delete=models.PROTECT, related_name="filing")
    filed_on = models.DateField()
    confirmation_number = models.CharField(max_length=60, blank=True)
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(confirmation_number="") | ~models.Q(note=""),
                name="rems_filing_has_confirmation_or_note",
            )
        ]

    def __str__(self) -> str:
        return f"Filing of REMS form {self.form_id}"
