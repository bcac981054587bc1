"""The patient's program pages: sessions, questionnaires due, progress. Views only translate.

Questionnaires are answered through the existing question flow (``/q/<token>/``), unchanged. The
app cannot hand the patient the e-mailed link (only its hash is kept), and the tablet's way (the
token in the session) flushes the session at the end, which would sign the patient out. So
"Start" asks the assessments service for a fresh token for that one open set of the patient's own
(:func:`kapstone.assessments.services.reissue_link`, audited as the patient's) and redirects into
the flow; saving, partial answers and resuming behave exactly as from the e-mailed link.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from kapstone.assessments import services as assessments
from kapstone.companion import program
from kapstone.companion.access import patient_only
from kapstone.companion.models import PatientAccount
from kapstone.errors import InputError
from kapstone.patients.models import Patient


def _context(account: PatientAccount, patient: Patient, nav: str) -> dict[str, object]:
    return {"account": account, "patient": patient, "nav": nav}


@patient_only
@require_GET
def sessions(request: HttpRequest, *, account: PatientAccount, patient: Patient) -> HttpResponse:
    now = timezone.now()
    program.viewed(account, patient, "sessions")
    return render(
        request,
        "companion/program/sessions.html",
        _context(account, patient, "sessions")
        | {"program": program.program_of(patient), "sessions": program.sessions(patient, now)},
    )


@patient_only
@require_http_methods(["GET", "POST"])
def questionnaires(
    request: HttpRequest, *, account: PatientAccount, patient: Patient
) -> HttpResponseBase:
    now = timezone.now()
    if request.method == "POST":
        try:
            set_id = int(request.POST.get("set", ""))
        except ValueError:
            raise Http404 from None
        found = program.own_open_set(patient, set_id, now)
        if found is None:
            raise Http404
        try:
            token = assessments.reissue_link(
                questionnaire_set=found, actor_label=account.audit_label, now=now
            )
        except InputError:
            messages.error(
                request, _("These questionnaires are closed. Please contact the clinic.")
            )
            return redirect("companion:questionnaires")
        return redirect(reverse("assessments:link", kwargs={"token": token}))
    program.viewed(account, patient, "questionnaires")
    return render(
        request,
        "companion/program/questionnaires.html",
        _context(account, patient, "questionnaires")
        | {"due": program.questionnaires_due(patient, now)},
    )


@patient_only
@require_GET
def progress(request: HttpRequest, *, account: PatientAccount, patient: Patient) -> HttpResponse:
    program.viewed(account, patient, "progress")
    return render(
        request,
        "companion/program/progress.html",
        _context(account, patient, "progress")
        | {"instruments": program.progress(patient, timezone.now())},
    )
