"""The REMS form queue, a patient's forms on the chart, one form, its PDF, and recording a filing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from kapstone.clinical.access import SEES_EVERY_CHART, Permission, may
from kapstone.clinical.rems_pmf import SCHEMAS, Derivation
from kapstone.dosing.selectors import session_of
from kapstone.errors import InputError
from kapstone.patients.models import Patient
from kapstone.patients.selectors import patients_visible_to
from kapstone.rems import selectors, services
from kapstone.rems.forms import FilingForm
from kapstone.rems.models import RemsForm
from kapstone.web.actions import act_on_form, show_errors_as_messages
from kapstone.web.authz import requires
from kapstone.web.downloads import document_filename
from kapstone.web.found import or_404
from kapstone.web.http import AuthenticatedHttpRequest
from kapstone.web.pdf import html_to_pdf


def _may_file(request: AuthenticatedHttpRequest, patient: Patient) -> bool:
    on_team = request.user.pk in patient.care_team_ids()
    return may(request.user.staff_role, Permission.FILE_REMS_FORMS, on_care_team=on_team)


def _form_or_404(patient: Patient, form_id: int) -> RemsForm:
    return or_404(selectors.get_form(patient, form_id), "No such REMS form for this patient")


@requires(Permission.SEE_REMS_QUEUE)
def queue(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(
        request,
        "rems/queue.html",
        {
            "queue": selectors.queue(user=request.user, now=timezone.now()),
            "filed_days": selectors.FILED_SHOWN_DAYS,
            "sees_all": request.user.staff_role in SEES_EVERY_CHART,
        },
    )


@requires(Permission.SEE_REMS_QUEUE)
@require_http_methods(["GET", "POST"])
def prepare_missing(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.method == "POST":
        prepared = services.prepare_missing_forms(
            by=request.user,
            patients=patients_visible_to(request.user),
        )
        messages.success(request, f"{len(prepared)} REMS monitoring form(s) prepared.")
    return redirect("rems:queue")


@requires(Permission.OPEN_CHART, patient_kwarg="patient_id")
def chart_tab(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    now = timezone.now()
    return render(
        request,
        "rems/chart_tab.html",
        {
            "patient": patient,
            "rows": selectors.forms_for_patient(patient, now),
            "without_form": selectors.patient_sessions_without_form(patient),
            "may_file": _may_file(request, patient),
            "tab": "rems",
        },
    )


@requires(Permission.FILE_REMS_FORMS, patient_kwarg="patient_id")
@require_http_methods(["GET", "POST"])
def prepare(request: AuthenticatedHttpRequest, patient: Patient, session_id: int) -> HttpResponse:
    if request.method == "GET":
        return redirect("rems:chart_tab", patient_id=patient.pk)
    session = or_404(session_of(patient, session_id), "No such dosing session for this patient")
    try:
        form = services.prepare_form(session=session, by=request.user)
    except InputError as exc:
        show_errors_as_messages(request, exc)
        return redirect("rems:chart_tab", patient_id=patient.pk)
    messages.success(request, "REMS monitoring form prepared.")
    return redirect("rems:detail", patient_id=patient.pk, form_id=form.pk)


def _context(form: RemsForm, now: dt.datetime) -> dict[str, Any]:
    pmf = form.pmf
    return {
        "form_row": selectors.form_row(form, now),
        "pmf": pmf,
        "sections": pmf.by_section(),
        "schema": SCHEMAS.get(pmf.schema_version),
        "clinician": Derivation.CLINICIAN,
        "rems_form": form,
        "session": form.session,
    }


@requires(Permission.OPEN_CHART, patient_kwarg="patient_id")
def detail(request: AuthenticatedHttpRequest, patient: Patient, form_id: int) -> HttpResponse:
    form = _form_or_404(patient, form_id)
    services.record_form_read(by=request.user, form=form, what="view")
    context = _context(form, timezone.now())
    context |= {
        "patient": patient,
        "drift": selectors.drift_since_prepared(form),
        "addenda": selectors.addenda_count(form),
        "may_file": _may_file(request, patient),
        "tab": "rems",
    }
    return render(request, "rems/detail.html", context)


@requires(Permission.OPEN_CHART, patient_kwarg="patient_id")
def pdf(request: AuthenticatedHttpRequest, patient: Patient, form_id: int) -> HttpResponse:
    form = _form_or_404(patient, form_id)
    services.record_form_read(by=request.user, form=form, what="pdf")
    context = _context(form, timezone.now()) | {"patient": patient, "generated_at": timezone.now()}
    html = render_to_string("rems/pmf_pdf.html", context, request=request)
    response = HttpResponse(html_to_pdf(html), content_type="application/pdf")
    filename = document_filename("rems-pmf", form.session_date, form)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@requires(Permission.FILE_REMS_FORMS, patient_kwarg="patient_id")
@require_http_methods(["GET", "POST"])
def file(request: AuthenticatedHttpRequest, patient: Patient, form_id: int) -> HttpResponse:
    form = _form_or_404(patient, form_id)
    if form.is_filed:
        messages.info(request, "This form is already recorded as filed.")
        return redirect("rems:detail", patient_id=patient.pk, form_id=form.pk)
    today = selectors.local_today(form.site, timezone.now())
    filing_form = FilingForm(request.POST or None, initial={"filed_on": today})
    acted = act_on_form(
        request,
        filing_form,
        lambda data: services.mark_filed(
            form=form,
            by=request.user,
            filed_on=data["filed_on"],
            confirmation_number=data["confirmation_number"],
            note=data["note"],
        ),
        done="Recorded as filed.",
        then=resolve_url("rems:detail", patient_id=patient.pk, form_id=form.pk),
    )
    return acted or render(
        request,
        "rems/file.html",
        {
            "patient": patient,
            "rems_form": form,
            "form_row": selectors.form_row(form, timezone.now()),
            "form": filing_form,
            "tab": "rems",
        },
    )
