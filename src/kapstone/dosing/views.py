"""A patient's dosing sessions: the list, booking (refused while dosing is held) and cancelling."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from kapstone.clinical.access import Permission, may
from kapstone.dosing import selectors, services
from kapstone.dosing.forms import BookSessionForm, CancelSessionForm
from kapstone.errors import InputError
from kapstone.patients.models import Patient
from kapstone.plans.selectors import signed_plan
from kapstone.timetable.selectors import sessions_left
from kapstone.timetable.services import IntegrationRequest, book_by_hand
from kapstone.web.authz import requires
from kapstone.web.forms import show_service_errors
from kapstone.web.http import AuthenticatedHttpRequest


@requires(Permission.OPEN_CHART, patient_kwarg="patient_id")
def chart_tab(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    role = request.user.staff_role
    return render(
        request,
        "dosing/chart_tab.html",
        {
            "patient": patient,
            "sessions": list(selectors.sessions_for_patient(patient)),
            "held": services.hold_message(patient),
            "may_book": may(role, Permission.BOOK_DOSING, on_care_team=True),
            "now": timezone.now(),
            "tab": "dosing",
        },
    )


@requires(Permission.BOOK_DOSING, patient_kwarg="patient_id")
@require_http_methods(["GET", "POST"])
def book(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    signed = signed_plan(patient)
    form = BookSessionForm(
        request.POST or None,
        signed=signed,
        initial={"therapist": patient.therapist_id, "book_integration": True},
    )
    held = services.hold_message(patient)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        integration = (
            IntegrationRequest(
                starts_at=data["integration_starts_at"],
                duration=dt.timedelta(minutes=data["integration_minutes"]),
                therapist=data["therapist"],
                modality=data["modality"],
            )
            if data["book_integration"]
            else None
        )
        try:
            dosing, talk = book_by_hand(
                by=request.user,
                patient=patient,
                starts_at=data["starts_at"],
                duration=form.duration,
                room=data["room"],
                integration=integration,
            )
        except InputError as exc:
            show_service_errors(exc, form)
        else:
            when = f"{timezone.localtime(dosing.starts_at):%a %-d %b %H:%M}"
            messages.success(
                request,
                f"Dosing session booked for {when}"
                + (
                    f", integration session {timezone.localtime(talk.starts_at):%a %-d %b %H:%M}."
                    if talk is not None
                    else "."
                ),
            )
            return redirect("dosing:chart_tab", patient_id=patient.pk)
    return render(
        request,
        "dosing/book.html",
        {
            "patient": patient,
            "form": form,
            "held": held,
            "signed": signed,
            "left": sessions_left(signed) if signed is not None else None,
            "tab": "dosing",
        },
    )


@requires(Permission.BOOK_DOSING, patient_kwarg="patient_id")
@require_http_methods(["GET", "POST"])
def cancel(request: AuthenticatedHttpRequest, patient: Patient, session_id: int) -> HttpResponse:
    session = selectors.session_of(patient, session_id)
    if session is None:
        raise Http404("No such dosing session for this patient.")
    form = CancelSessionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.cancel_dosing_session(
                by=request.user,
                session=session,
                reason=form.cleaned_data["reason"],
            )
        except InputError as exc:
            show_service_errors(exc, form)
        else:
            messages.success(request, "Dosing session cancelled.")
            return redirect("dosing:chart_tab", patient_id=patient.pk)
    return render(
        request,
        "dosing/cancel.html",
        {"patient": patient, "session": session, "form": form, "tab": "dosing"},
    )
