"""The patient ticks (or unticks) one item of a session's preparation checklist: a new row, with
the patient's own audit row, in one transaction."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from kapstone.audit.trail import record
from kapstone.companion.models import PatientAccount
from kapstone.errors import InputError
from kapstone.patients.models import Patient
from kapstone.preparation import selectors
from kapstone.preparation.checklist import BY_KEY, CHECKLIST_VERSION
from kapstone.preparation.models import PreparationAnswer

NOTE_LIMIT = 300


def answer_item(
    *,
    account: PatientAccount,
    patient: Patient,
    session_id: int,
    item: str,
    answer: bool,
    note: str = "",
    now: dt.datetime,
) -> PreparationAnswer:
    """Records the patient's answer; the session must be one of their own upcoming sessions."""
    if account.patient_id != patient.pk:
        raise InputError.single("", _("This account is not this patient's."))
    session = selectors.own_upcoming_session(patient, session_id, now)
    errors: dict[str, list[str]] = {}
    if session is None:
        errors["session"] = [_("This session is not one of your upcoming sessions.")]
    if item not in BY_KEY:
        errors["item"] = [_("This is not an item of the checklist.")]
    note = note.strip()
    if len(note) > NOTE_LIMIT:
        errors["note"] = [
            _("Please keep the note under %(limit)d characters.") % {"limit": NOTE_LIMIT}
        ]
    if errors or session is None:
        raise InputError(errors)
    with transaction.atomic():
        row = PreparationAnswer.objects.create(
            session=session,
            item=item,
            answer=answer,
            note=note,
            answered_at=now,
            answered_by=account,
        )
        record(
            actor=None,
            actor_label=account.audit_label,
            action="preparation.answered",
            patient=patient,
            obj=row,
            summary=f"The patient answered {'yes' if answer else 'no'} to {item!r} "
            f"for the dosing session of {session.starts_at:%Y-%m-%d}",
            after={
                "session": session.pk,
                "item": item,
                "answer": answer,
                "note": note,
                "checklist_version": CHECKLIST_VERSION,
            },
        )
    return row
