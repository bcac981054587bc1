"""The care team's side of secure messages: the chart's Messages tab, a thread, a reply."""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from kapstone.audit.trail import record
from kapstone.clinical.access import Permission, may
from kapstone.errors import InputError
from kapstone.messaging import selectors, services
from kapstone.patients.models import Patient
from kapstone.web.authz import requires
from kapstone.web.found import or_404
from kapstone.web.http import AuthenticatedHttpRequest


@requires(Permission.READ_MESSAGES, patient_kwarg="patient_id")
@require_GET
def chart_tab(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    record(
        actor=request.user,
        action="messaging.viewed",
        patient=patient,
        summary="Viewed the list of message threads",
    )
    return render(
        request,
        "messaging/chart_tab.html",
        {"patient": patient, "threads": selectors.threads_of(patient), "tab": "messages"},
    )


def _thread_page(
    request: AuthenticatedHttpRequest,
    patient: Patient,
    message_thread_id: int,
    *,
    body: str = "",
    errors: dict[str, list[str]] | None = None,
) -> HttpResponse:
    found = or_404(selectors.thread_of(patient, message_thread_id), "No such message thread.")
    if errors is None:
        services.staff_reads(by=request.user, thread=found)
    return render(
        request,
        "messaging/staff_thread.html",
        {
            "patient": patient,
            "thread": found,
            "thread_messages": selectors.messages_in(found),
            "may_reply": may(
                request.user.staff_role, Permission.REPLY_TO_MESSAGES, on_care_team=True
            ),
            "body": body,
            "errors": errors or {},
            "tab": "messages",
        },
        status=400 if errors else 200,
    )


@requires(Permission.READ_MESSAGES, patient_kwarg="patient_id")
@require_GET
def thread(
    request: AuthenticatedHttpRequest, patient: Patient, message_thread_id: int
) -> HttpResponse:
    return _thread_page(request, patient, message_thread_id)


@requires(Permission.REPLY_TO_MESSAGES, patient_kwarg="patient_id")
@require_POST
def reply(
    request: AuthenticatedHttpRequest, patient: Patient, message_thread_id: int
) -> HttpResponseBase:
    found = or_404(selectors.thread_of(patient, message_thread_id), "No such message thread.")
    body = request.POST.get("body", "")
    try:
        services.staff_replies(by=request.user, thread=found, body=body)
    except InputError as exc:
        return _thread_page(request, patient, message_thread_id, body=body, errors=exc.errors)
    flash.success(request, "Reply sent. The patient is told by a link, without its text.")
    return redirect("chart_messages:thread", patient.pk, found.pk)
