"""The chart's Integration tab: sessions, the course's trend, notes (draft, sign, addendum) and
the therapist's process notes. Views translate; the services and selectors decide."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from kapstone.audit.trail import record
from kapstone.clinical.access import Permission, may
from kapstone.dosing.models import SessionStatus
from kapstone.dosing.selectors import session_of
from kapstone.errors import InputError
from kapstone.integration import selectors, services
from kapstone.integration.forms import (
    AccessForm,
    AddendumForm,
    AfterDoseForm,
    NoteForm,
    ProcessNoteForm,
    problem_field,
)
from kapstone.integration.models import IntegrationSession
from kapstone.journal import selectors as journal_selectors
from kapstone.journal import services as journal_services
from kapstone.patients.models import Patient
from kapstone.web.actions import act_on_form
from kapstone.web.authz import requires
from kapstone.web.forms import show_service_errors
from kapstone.web.found import or_404
from kapstone.web.http import AuthenticatedHttpRequest


def _session(patient: Patient, session_id: int) -> IntegrationSession:
    return or_404(
        selectors.get_session(patient, session_id), "No such integration session for this patient."
    )


def _session_url(patient: Patient, session: IntegrationSession) -> str:
    return resolve_url(
        "integration:session", patient_id=patient.pk, integration_session_id=session.pk
    )


@requires(Permission.SEE_INTEGRATION_NOTES, patient_kwarg="patient_id")
def chart_tab(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    me = request.user
    rows = selectors.course_trend(patient)
    record(
        actor=me,
        action="integration.trend_viewed",
        patient=patient,
        summary="Viewed the integration sessions and their trend",
    )
    return render(
        request,
        "integration/chart_tab.html",
        {
            "patient": patient,
            "rows": rows,
            "cancelled": selectors.cancelled_sessions(patient),
            "charts": selectors.trend_charts([r for r in rows if r.note is not None]),
            "may_write": may(me.staff_role, Permission.WRITE_INTEGRATION_NOTE, on_care_team=True),
            "unpaired": selectors.doses_without_integration(patient),
            "may_read_process": may(
                me.staff_role, Permission.READ_PROCESS_NOTES, on_care_team=True
            ),
            "tab": "integration",
        },
    )


@requires(Permission.WRITE_INTEGRATION_NOTE, patient_kwarg="patient_id")
@require_http_methods(["GET", "POST"])
def after_dose(
    request: AuthenticatedHttpRequest, patient: Patient, session_id: int
) -> HttpResponse:
    """Books the integration session of a dose that has none (booked by hand, or given outside
    the scheduler), so its note can be written; a session already held may be recorded."""
    dose = session_of(patient, session_id)
    if dose is None or dose.status == SessionStatus.CANCELLED:
        raise Http404("No such dosing session")
    plan_modalities = (dose.plan.modalities if dose.plan is not None else []) or [""]
    form = AfterDoseForm(
        request.POST or None,
        initial={
            "therapist": patient.therapist_id,
            "modality": plan_modalities[0],
            "starts_at": timezone.localtime(dose.ends_at),
        },
    )
    acted = act_on_form(
        request,
        form,
        lambda data: services.book_integration_session(
            by=request.user,
            patient=patient,
            starts_at=data["starts_at"],
            duration=dt.timedelta(minutes=data["minutes"]),
            therapist=data["therapist"],
            modality=data["modality"],
            dosing_session=dose,
            site=dose.site,
        ),
        done="Integration session booked: its note can be written now.",
        then=lambda session: _session_url(patient, session),
    )
    return acted or render(
        request,
        "integration/after_dose.html",
        {"patient": patient, "dose": dose, "form": form, "tab": "integration"},
    )


@requires(Permission.SEE_INTEGRATION_NOTES, patient_kwarg="patient_id")
def session_detail(
    request: AuthenticatedHttpRequest, patient: Patient, integration_session_id: int
) -> HttpResponse:
    me = request.user
    session = _session(patient, integration_session_id)
    signed = selectors.signed_note(session)
    latest = selectors.latest_note(session)
    structure = correction = None
    shown_fields: list[selectors.ShownModality] = []
    homework: list[str] = []
    if signed is not None:
        structure, correction = selectors.structure_in_force(signed)
        shown_fields, homework = selectors.shown(structure)
    elif latest is not None:
        shown_fields, homework = selectors.shown(selectors.stored_structure(latest.structured))
    record(
        actor=me,
        action="integration.note_viewed",
        patient=patient,
        obj=session,
        summary="Viewed an integration session and its note",
    )
    return render(
        request,
        "integration/session.html",
        {
            "patient": patient,
            "session": session,
            "signed": signed,
            "latest": latest,
            "correction": correction,
            "fields": shown_fields,
            "homework": homework,
            "addenda": selectors.addenda(signed) if signed else [],
            "versions": selectors.note_versions(session),
            "warnings": services.signing_warnings(latest) if latest and not signed else (),
            "may_write": may(me.staff_role, Permission.WRITE_INTEGRATION_NOTE, on_care_team=True),
            "tab": "integration",
        },
    )


@requires(Permission.WRITE_INTEGRATION_NOTE, patient_kwarg="patient_id")
@require_http_methods(["GET", "POST"])
def write_note(
    request: AuthenticatedHttpRequest, patient: Patient, integration_session_id: int
) -> HttpResponse:
    """Save a draft version ("save"), or sign the latest version ("sign", with a reason when the
    core warns)."""
    me = request.user
    session = _session(patient, integration_session_id)
    if selectors.signed_note(session) is not None:
        messages.info(request, "This note is signed: add an addendum to correct it.")
        return redirect(
            "integration:addendum", patient_id=patient.pk, integration_session_id=session.pk
        )
    latest = selectors.latest_note(session)
    initial: dict[str, object] = {
        "held_at": timezone.localtime(session.starts_at),
        "minutes": int((session.ends_at - session.starts_at).total_seconds() // 60),
        "modalities": [session.modality] if session.modality else [],
    }
    if latest is not None:
        initial = {
            "held_at": timezone.localtime(latest.held_at),
            "minutes": latest.minutes,
            "narrative": latest.narrative,
        } | selectors.form_initial(selectors.stored_structure(latest.structured))
    action = request.POST.get("action", "save")
    posted = request.method == "POST" and action == "save"
    form = NoteForm(request.POST if posted else None, initial=initial)
    sign_errors: list[str] = []
    if request.method == "POST" and action == "sign":
        if latest is None or str(latest.pk) != request.POST.get("version"):
            sign_errors = ["A newer version was saved meanwhile: check it, then sign."]
        else:
            try:
                services.sign_note(
                    by=me, note=latest, override_reason=request.POST.get("override_reason", "")
                )
            except InputError as exc:
                # The draft's form is not what was posted: the refusal shows beside the sign button.
                form = NoteForm(initial=initial)
                sign_errors = [m for msgs in exc.errors.values() for m in msgs]
            else:
                messages.success(request, "Note signed; the session is completed.")
                return redirect(_session_url(patient, session))
    elif posted and form.is_valid():
        try:
            saved = services.save_note(
                by=me,
                session=session,
                held_at=form.cleaned_data["held_at"],
                minutes=form.cleaned_data["minutes"],
                structured=form.structured(),
                narrative=form.cleaned_data["narrative"],
            )
        except InputError as exc:
            show_service_errors(exc, form, aliases=problem_field)
        else:
            messages.success(request, f"Draft version {saved.revision} saved. Check it and sign.")
            return redirect(
                "integration:write_note", patient_id=patient.pk, integration_session_id=session.pk
            )
    # What the patient chose to share from their journal, beside the note (a read, audited).
    journal = journal_selectors.therapist_panel(patient)
    journal_services.record_staff_read(by=me, patient=patient, shown=len(journal.entries))
    return render(
        request,
        "integration/note_form.html",
        {
            "patient": patient,
            "session": session,
            "form": form,
            "journal": journal,
            "latest": latest,
            "sign_errors": sign_errors,
            "warnings": services.signing_warnings(latest) if latest else (),
            "window": services.window_for(latest) if latest else None,
            "tab": "integration",
        },
    )


@requires(Permission.WRITE_INTEGRATION_NOTE, patient_kwarg="patient_id")
@require_http_methods(["GET", "POST"])
def addendum(
    request: AuthenticatedHttpRequest, patient: Patient, integration_session_id: int
) -> HttpResponse:
    me = request.user
    session = _session(patient, integration_session_id)
    signed = selectors.signed_note(session)
    if signed is None:
        messages.info(request, "The note is not signed yet: change the draft instead.")
        return redirect(
            "integration:write_note", patient_id=patient.pk, integration_session_id=session.pk
        )
    structure, _ = selectors.structure_in_force(signed)
    form = AddendumForm(request.POST or None, initial=selectors.form_initial(structure))
    acted = act_on_form(
        request,
        form,
        lambda data: services.add_addendum(
            by=me,
            note=signed,
            text=data["text"],
            reason=data["reason"],
            structured=form.structured() if data["correct"] else None,
        ),
        done="Addendum added to the signed note.",
        then=_session_url(patient, session),
        aliases=problem_field,
    )
    return acted or render(
        request,
        "integration/addendum.html",
        {
            "patient": patient,
            "session": session,
            "signed": signed,
            "form": form,
            "tab": "integration",
        },
    )


# --- process notes -------------------------------------------------------------------------------


@requires(Permission.READ_PROCESS_NOTES, patient_kwarg="patient_id")
def process_notes(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    """The reader's own process notes on this patient and those granted to them; nobody else's."""
    me = request.user
    keeps = may(me.staff_role, Permission.KEEP_PROCESS_NOTES, on_care_team=True)
    return render(
        request,
        "integration/process_notes.html",
        {
            "patient": patient,
            "notes": list(selectors.visible_process_notes(me, patient)),
            "keeps": keeps,
            "grantees": selectors.process_note_grantees(author=me, patient=patient)
            if keeps
            else [],
            "me": me,
            "tab": "integration",
        },
    )


@requires(Permission.KEEP_PROCESS_NOTES, patient_kwarg="patient_id")
@require_http_methods(["GET", "POST"])
def new_process_note(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    form = ProcessNoteForm(request.POST or None)
    acted = act_on_form(
        request,
        form,
        lambda data: services.write_process_note(
            by=request.user, patient=patient, text=data["text"]
        ),
        done="Process note saved.",
        then=resolve_url("integration:process_notes", patient_id=patient.pk),
    )
    return acted or render(
        request,
        "integration/process_note_new.html",
        {"patient": patient, "form": form, "tab": "integration"},
    )


@requires(Permission.READ_PROCESS_NOTES, patient_kwarg="patient_id")
def process_note(
    request: AuthenticatedHttpRequest, patient: Patient, process_note_id: int
) -> HttpResponse:
    me = request.user
    note = selectors.get_process_note(me, patient, process_note_id)
    if note is None:
        # Not the author's and not granted: the same answer as no note at all.
        raise Http404("No such process note.")
    services.record_process_note_read(by=me, note=note)
    return render(
        request,
        "integration/process_note.html",
        {"patient": patient, "note": note, "tab": "integration"},
    )


@requires(Permission.KEEP_PROCESS_NOTES, patient_kwarg="patient_id")
@require_http_methods(["GET", "POST"])
def process_note_access(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    me = request.user
    form = AccessForm(request.POST or None, grantable=selectors.grantable_staff(me, patient))
    acted = act_on_form(
        request,
        form,
        lambda data: services.set_process_note_access(
            by=me, patient=patient, grantee=data["grantee"], granted=data["granted"]
        ),
        done="Access to your process notes updated.",
        then=resolve_url("integration:process_note_access", patient_id=patient.pk),
    )
    return acted or render(
        request,
        "integration/process_access.html",
        {
            "patient": patient,
            "form": form,
            "grantees": selectors.process_note_grantees(author=me, patient=patient),
            "tab": "integration",
        },
    )
