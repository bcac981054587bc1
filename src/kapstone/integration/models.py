"""An integration psychotherapy session on the calendar, linked to the dosing session before it,
and what the therapist writes about it.

The structured notes a therapist writes attach to this row; booking and cancelling are services
with their audit rows, and a cancelled session keeps its row and reason. Notes, their signatures
and addenda, process notes and their access grants are written once
(:class:`~kapstone.kernel.append_only.AppendOnly`): the models and the database's triggers refuse
UPDATE and DELETE on them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from kapstone.clinical.access import Modality
from kapstone.kernel.append_only import AppendOnly
from kapstone.kernel.append_only import AppendOnlyError as AppendOnlyError  # what save() raises
from kapstone.kernel.bookings import BookedSession, BookingStatus, booking_constraints

IntegrationStatus = BookingStatus  # one life cycle for every booked session


class IntegrationSession(BookedSession):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="integration_sessions"
    )
    dosing_session = models.ForeignKey(
        "dosing.DosingSession",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="integration_sessions",
    )
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    modality = models.CharField(
        max_length=32, choices=[(m.value, m.label) for m in Modality], blank=True
    )
    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")
    room = models.ForeignKey(
        "accounts.Room", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [
            models.Index(fields=["patient", "starts_at"]),
            models.Index(fields=["therapist", "starts_at"]),
        ]
        constraints = booking_constraints("integration_session")

    def __str__(self) -> str:
        return (
            f"Integration session for patient {self.patient_id} at {self.starts_at:%Y-%m-%d %H:%M}"
        )


# --- the therapist's notes: written once ---------------------------------------------------------


class IntegrationNote(AppendOnly):
    """One version of the note on an integration session. A draft is replaced by a newer version;
    the version an :class:`IntegrationNoteSignature` names is the note, corrected only by addenda.

    ``structured`` is :meth:`kapstone.clinical.integration_notes.StructuredNote.to_json`, checked by
    the core before it is written; ``modalities`` repeats its keys so the list can be queried.
    """

    session = models.ForeignKey(IntegrationSession, on_delete=models.PROTECT, related_name="notes")
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="integration_notes"
    )
    revision = models.PositiveIntegerField()
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    # The dose this session follows: the session's own link, or the latest dose before it.
    dosing_session = models.ForeignKey(
        "dosing.DosingSession",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="integration_notes",
    )
    held_at = models.DateTimeField()
    minutes = models.PositiveSmallIntegerField()
    modalities = models.JSONField()
    structured = models.JSONField()
    narrative = models.TextField(blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["session", "-revision"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "revision"], name="integration_note_revision_unique"
            ),
            models.UniqueConstraint(
                fields=["session"],
                condition=models.Q(supersedes__isnull=True),
                name="integration_note_one_first_version",
            ),
            models.CheckConstraint(
                condition=models.Q(minutes__gt=0), name="integration_note_minutes_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Integration note v{self.revision} on session {self.session_id}"

    @property
    def modality_labels(self) -> list[str]:
        return [Modality(m).label for m in self.modalities]


class IntegrationNoteSignature(AppendOnly):
    """Signing a note version: it completes the session and the note can no longer change.

    ``warnings`` are the core's signing warnings the signer saw, ``override_reason`` why they signed
    anyway; ``window`` the integration window checked against, with its source.
    """

    note = models.OneToOneField(IntegrationNote, on_delete=models.PROTECT, related_name="signature")
    # One signed note per session (the note's session, repeated so the database can say so).
    session = models.OneToOneField(
        IntegrationSession, on_delete=models.PROTECT, related_name="signed_note"
    )
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField()
    warnings = models.JSONField(default=list)
    override_reason = models.TextField(blank=True)
    window = models.JSONField()

    def __str__(self) -> str:
        return f"Signature of integration note {self.note_id}"


class IntegrationNoteAddendum(AppendOnly):
    """A correction or addition to a signed note, with its reason. ``structured`` (with
    ``modalities``), when given, replaces the signed note's structured part from then on: the
    trend reads the latest correction, the signed version stays as it was."""

    note = models.ForeignKey(IntegrationNote, on_delete=models.PROTECT, related_name="addenda")
    text = models.TextField()
    reason = models.TextField()
    structured = models.JSONField(null=True, blank=True)
    modalities = models.JSONField(null=True, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(reason=""), name="integration_addendum_has_reason"
            )
        ]

    def __str__(self) -> str:
        return f"Addendum {self.pk} to integration note {self.note_id}"


# --- psychotherapy process notes: the author's own ----------------------------------------------


class ProcessNote(AppendOnly):
    """A therapist's psychotherapy process note: outside the shared record. Only its author and
    the staff the author grants (:class:`ProcessNoteAccess`) read it; it goes into no export, PDF,
    FHIR bundle or audit summary."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="process_notes"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    session = models.ForeignKey(
        IntegrationSession,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="process_notes",
    )
    text = models.TextField()
    written_at = models.DateTimeField()

    class Meta:
        ordering = ["-written_at", "-pk"]
        indexes = [models.Index(fields=["patient", "author"])]

    def __str__(self) -> str:
        return f"Process note {self.pk}"


class ProcessNoteAccess(AppendOnly):
    """The author grants (or revokes) one colleague's reading of their process notes on a patient.
    The latest row for (patient, author, grantee) is in force; earlier rows are its history."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    grantee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    granted = models.BooleanField()
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["patient", "author", "grantee"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(author=models.F("grantee")),
                name="process_note_access_not_to_self",
            )
        ]

    def __str__(self) -> str:
        return f"Process-note access {'granted' if self.granted else 'revoked'} ({self.pk})"
