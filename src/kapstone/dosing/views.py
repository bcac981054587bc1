"""A patient's dosing sessions: the list, booking (refused while dosing is held) and cancelling."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from kapstone.clinical.access import Permission, may
from kapstone.dosing import selectors, services
from kapstone.dosing.forms import BookSessionForm, CancelSessionForm
from kapstone.dosing.models import DosingSession
from kapstone.errors import InputError
from kapstone.patients.models import Patient
from kapstone.plans.selectors import plan_in_force
from kapstone.web.authz import requires
from kapstone.web.forms import show_service_errors


@requires(Permission.OPEN_CHART, patient_kwarg="patient_id")
def chart_tab(request: HttpRequest, patient_id: Patient) -> HttpResponse:
    patient = patient_id
    role = request.user.staff_role  # type: ignore[union-attr]
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
def book(request: HttpRequest, patient_id: Patient) -> HttpResponse:
    patient = patient_id
    form = BookSessionForm(
        request.POST or None,
        initial={"site": patient.home_site_id},
        signed=plan_in_force(patient),
    )
    held = services.hold_message(patient)
    if request.method == "POST" and form.is_valid():
        try:
            services.book_dosing_session(
                by=request.user,  # type: ignore[arg-type]
                patient=patient,
                starts_at=form.cleaned_data["starts_at"],
                duration=form.duration,
                site=form.cleaned_data["site"],
                plan=form.cleaned_data.get("plan"),
            )
        except InputError as exc:
            show_service_errors(exc, form)
        else:
            messages.success(request, "Dosing session booked.")
            return redirect("dosing:chart_tab", patient_id=patient.pk)
    return render(
        request,
        "dosing/book.html",
        {"patient": patient, "form": form, "held": held, "tab": "dosing"},
    )


@requires(Permission.BOOK_DOSING, patient_kwarg="patient_id")
@require_http_methods(["GET", "POST"])
def cancel(request: HttpRequest, patient_id: Patient, session_id: int) -> HttpResponse:
    patient = patient_id
    session = get_object_or_404(DosingSession, pk=session_id, patient=patient)
    form = CancelSessionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.cancel_dosing_session(
                by=request.user,  # type: ignore[arg-type]
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
