"""The patient's messages in the companion (/me/messages/). Views only translate: the patient comes
from :func:`patient_only`, a thread is looked up within the patient's own rows."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from kapstone.companion.access import patient_only
from kapstone.companion.models import PatientAccount
from kapstone.errors import InputError
from kapstone.messaging import selectors, services
from kapstone.messaging.models import Message
from kapstone.patients.models import Patient
from kapstone.web.found import or_404


def _page(account: PatientAccount, patient: Patient, **extra: Any) -> dict[str, Any]:
    return {
        "account": account,
        "patient": patient,
        "nav": "messaging",
        "clinic_hours": settings.CLINIC_HOURS,
        **extra,
    }


def needs_crisis_first(messages: list[Message]) -> bool:
    """The patient's last message was screened urgent and nobody has answered it yet: the crisis
    resources come first on the page until the care team replies."""
    for message in reversed(messages):
        if not message.from_patient:
            return False
        if message.urgent:
            return True
    return False


@patient_only
@require_http_methods(["GET", "POST"])
def home(request: HttpRequest, *, account: PatientAccount, patient: Patient) -> HttpResponseBase:
    """The patient's conversations, and the form to start one."""
    values = {"subject": "", "body": ""}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in values}
        try:
            message = services.start_thread(
                account=account, patient=patient, subject=values["subject"], body=values["body"]
            )
        except InputError as exc:
            errors = exc.errors
        else:
            return redirect("messaging:thread", thread_id=message.thread_id)
    return render(
        request,
        "messaging/home.html",
        _page(
            account,
            patient,
            threads=selectors.threads_of(patient),
            values=values,
            errors=errors,
        ),
        status=400 if errors else 200,
    )


@patient_only
@require_http_methods(["GET", "POST"])
def thread(
    request: HttpRequest, thread_id: int, *, account: PatientAccount, patient: Patient
) -> HttpResponse | HttpResponseBase:
    """One conversation: the messages with their read receipts, and the patient's reply."""
    found = or_404(selectors.thread_of(patient, thread_id), "No such conversation.")
    body = ""
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        body = request.POST.get("body", "")
        try:
            services.patient_writes(account=account, thread=found, body=body)
        except InputError as exc:
            errors = exc.errors
        else:
            return redirect("messaging:thread", thread_id=found.pk)
    else:
        services.patient_reads(account=account, thread=found)
    messages = selectors.messages_in(found)
    return render(
        request,
        "messaging/thread.html",
        _page(
            account,
            patient,
            thread=found,
            thread_messages=messages,
            crisis_first=needs_crisis_first(messages),
            body=body,
            errors=errors,
        ),
        status=400 if errors else 200,
    )
