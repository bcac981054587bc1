"""A patient's dosing sessions: the list, booking (refused while dosing is held) and cancelling."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpResponse
from django.shortcuts import render, resolve_url
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from kapstone.clinical.access import Permission, may
from kapstone.dosing import selectors, services
from kapstone.dosing.forms import BookSessionForm, CancelSessionForm
from kapstone.dosing.models import DosingSession
from kapstone.integration.models import IntegrationSession
from kapstone.patients.models import Patient
from kapstone.plans.selectors import signed_plan
from kapstone.timetable.selectors import sessions_left
from kapstone.timetable.services import IntegrationRequest, book_by_hand
from kapstone.web.actions import act_on_form
from kapstone.web.authz import requires
from kapstone.web.found import or_404
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

    def book_sessions(data: dict[str, Any]) -> tuple[DosingSession, IntegrationSession | None]:
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
        return book_by_hand(
            by=request.user,
            patient=patient,
            starts_at=data["starts_at"],
            duration=form.duration,
            room=data["room"],
            integration=integration,
        )

    acted = act_on_form(
        request,
        form,
        book_sessions,
        done=_booked,
        then=resolve_url("dosing:chart_tab", patient_id=patient.pk),
    )
    if acted is not None:
        return acted
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
    session = or_404(
        selectors.session_of(patient, session_id), "No such dosing session for this patient."
    )
    form = CancelSessionForm(request.POST or None)
    acted = act_on_form(
        request,
        form,
        lambda data: services.cancel_dosing_session(
            by=request.user, session=session, reason=data["reason"]
        ),
        done="Dosing session cancelled.",
        then=resolve_url("dosing:chart_tab", patient_id=patient.pk),
    )
    return acted or render(
        request,
        "dosing/cancel.html",
        {"patient": patient, "session": session, "form": form, "tab": "dosing"},
    )


def _booked(sessions: tuple[DosingSession, IntegrationSession | None]) -> str:
    dosing, talk = sessions
    when = f"{timezone.localtime(dosing.starts_at):%a %-d %b %H:%M}"
    return f"Dosing session booked for {when}" + (
        f", integration session {timezone.localtime(talk.starts_at):%a %-d %b %H:%M}."
        if talk is not None
        else "."
    )
