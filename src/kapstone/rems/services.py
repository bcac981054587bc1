"""Preparing REMS monitoring forms from signed esketamine sessions, and recording their filing.

Kapstone fills the form and tracks its 7-day deadline; filing it on the REMS portal (or by fax) is
the clinic's act, which a clinician records here with the confirmation number or a note (§11.2).
Each write is one transaction with its audit row.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.audit.trail import record
from kapstone.chairside.models import ChairsideRecord
from kapstone.clinical.rems_pmf import CURRENT_SCHEMA, InvalidPmfFacts, filing_deadline
from kapstone.dosing.models import DosingSession
from kapstone.errors import InputError
from kapstone.patients.models import Patient
from kapstone.rems import selectors
from kapstone.rems.models import RemsFiling, RemsForm

CONFIRMATION_MAX = 60


def _refusal(session: DosingSession) -> str:
    """Why no form can be prepared for the session ('' when one can)."""
    record = ChairsideRecord.objects.filter(session=session).first()
    if record is None:
        return "This session has no chair-side record."
    if record.route != selectors.ESKETAMINE:
        return "REMS monitoring forms are for esketamine (Spravato) sessions only."
    if record.signed_at is None:
        return (
            "The chair-side record is not signed yet: the form is prepared from the signed record."
        )
    if RemsForm.objects.filter(session=session).exists():
        return "A REMS monitoring form has already been prepared for this session."
    return ""


def prepare_form(
    *, session: DosingSession, by: StaffUser | None, now: dt.datetime | None = None
) -> RemsForm:
    """Fills the session's form from its signed chair-side record and stores the snapshot.

    ``by`` is None when the scheduled task prepares it. Refused (InputError, nothing written) for a
    session that is not a signed esketamine session or already has a form.
    """
    now = now or timezone.now()
    refusal = _refusal(session)
    if refusal:
        raise InputError.single("", refusal)
    try:
        facts, filled = selectors.fill_for_session(session, CURRENT_SCHEMA)
    except InvalidPmfFacts as exc:
        raise InputError.from_problems(
            exc.problems,
            default="",
            say=lambda p: f"The session record contradicts itself: {p.field}: {p.message}",
        ) from exc
    patient = session.patient
    try:
        with transaction.atomic():
            form = RemsForm.objects.create(
                session=session,
                patient=patient,
                site=session.site,
                schema_version=filled.schema_version,
                filled=filled.to_json(),
                complete=filled.complete,
                session_date=facts.session_date,
                due_on=filing_deadline(facts.session_date),
                created_at=now,
                created_by=by,
            )
            record(
                actor=by,
                action="rems_form.prepared",
                patient=patient,
                obj=form,
                summary=(
                    f"REMS monitoring form prepared ({filled.schema_version}), due "
                    f"{form.due_on:%Y-%m-%d}; {len(filled.missing_required)} required field(s) "
                    "to complete on the portal"
                ),
                after={
                    "session": session.pk,
                    "schema_version": filled.schema_version,
                    "due_on": form.due_on,
                    "complete": filled.complete,
                    "missing_required": [f.key for f in filled.missing_required],
                    "warnings": len(filled.warnings),
                },
            )
    except IntegrityError as exc:
        # Two people (or the task and a person) preparing the same session at once: one wins.
        raise InputError.single(
            "", "A REMS monitoring form has already been prepared for this session."
        ) from exc
    return form


def prepare_missing_forms(
    *,
    by: StaffUser | None,
    now: dt.datetime | None = None,
    patients: QuerySet[Patient] | None = None,
) -> list[RemsForm]:
    """Prepares a form for every signed esketamine session without one (of ``patients`` if given).

    A session whose record cannot fill a form is skipped and stays listed, so one bad record does
    not hold up the others.
    """
    now = now or timezone.now()
    prepared = []
    for session in selectors.sessions_without_form(patients):
        try:
            prepared.append(prepare_form(session=session, by=by, now=now))
        except InputError:
            continue
    return prepared


def mark_filed(
    *,
    form: RemsForm,
    by: StaffUser,
    filed_on: dt.date | None,
    confirmation_number: str = "",
    note: str = "",
    now: dt.datetime | None = None,
) -> RemsFiling:
    """Records that the clinic filed the form: when, and the REMS confirmation number or a note."""
    now = now or timezone.now()
    confirmation_number = confirmation_number.strip()
    note = note.strip()
    errors: dict[str, list[str]] = {}
    today = selectors.local_today(form.site, now)
    if filed_on is None:
        errors["filed_on"] = ["Give the day the form was filed."]
    elif filed_on > today:
        errors["filed_on"] = ["The filing day cannot be in the future."]
    elif filed_on < form.session_date:
        errors["filed_on"] = ["The form cannot be filed before the session took place."]
    if not confirmation_number and not note:
        errors["confirmation_number"] = [
            "Give the REMS confirmation number, or a note saying how it was filed (e.g. by fax)."
        ]
    if len(confirmation_number) > CONFIRMATION_MAX:
        errors["confirmation_number"] = [f"At most {CONFIRMATION_MAX} characters."]
    if RemsFiling.objects.filter(form=form).exists():
        errors[""] = ["This form is already recorded as filed."]
    if errors:
        raise InputError(errors)
    assert filed_on is not None
    try:
        with transaction.atomic():
            filing = RemsFiling.objects.create(
                form=form,
                filed_on=filed_on,
                confirmation_number=confirmation_number,
                note=note,
                recorded_by=by,
                recorded_at=now,
            )
            late = filed_on > form.due_on
            record(
                actor=by,
                action="rems_form.filed",
                patient=form.patient,
                obj=form,
                summary=(
                    f"REMS monitoring form recorded as filed on {filed_on:%Y-%m-%d}"
                    + (f" ({(filed_on - form.due_on).days} day(s) late)" if late else "")
                ),
                after={
                    "filed_on": filed_on,
                    "confirmation_number": confirmation_number,
                    "note": note,
                    "due_on": form.due_on,
                    "late": late,
                },
            )
    except IntegrityError as exc:
        raise InputError.single("", "This form is already recorded as filed.") from exc
    return filing


def record_form_read(*, by: StaffUser, form: RemsForm, what: str) -> None:
    """Opening or downloading a form shows patient identifiers: audited like a chart read."""
    actions = {
        "view": ("rems_form.viewed", "REMS monitoring form opened"),
        "pdf": ("rems_form.exported", "REMS monitoring form PDF downloaded"),
    }
    action, summary = actions[what]
    with transaction.atomic():
        record(actor=by, action=action, patient=form.patient, obj=form, summary=summary)
