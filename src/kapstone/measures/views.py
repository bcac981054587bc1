"""The chart's Measures tab (the schedule, its plan and what was not repeated and why), setting the
plan, sending what is due, and the clinic's work queue of overdue and expired measures."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from kapstone.assessments.flow import short_name
from kapstone.clinical.access import SEES_EVERY_CHART, Permission, may
from kapstone.errors import InputError
from kapstone.measures import selectors, services
from kapstone.measures.forms import CarePlanForm
from kapstone.measures.selectors import EXPIRED_LISTED_FOR
from kapstone.patients.models import Patient
from kapstone.web.actions import act_on_form, show_errors_as_messages
from kapstone.web.authz import requires
from kapstone.web.http import AuthenticatedHttpRequest


def _may(request: AuthenticatedHttpRequest, patient: Patient, permission: Permission) -> bool:
    on_team = request.user.pk in patient.care_team_ids()
    return may(request.user.staff_role, permission, on_care_team=on_team)


@requires(Permission.SEE_RESPONSES, patient_kwarg="patient_id")
def chart_tab(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    return render(
        request,
        "measures/chart_tab.html",
        {
            "patient": patient,
            "page": selectors.measures_page(patient, timezone.now()),
            "may_plan": _may(request, patient, Permission.MANAGE_CARE_PLAN),
            "may_send": _may(request, patient, Permission.SEND_QUESTIONNAIRES),
            "may_rate": _may(request, patient, Permission.RATE_CLINICIAN_INSTRUMENT),
            "tab": "measures",
        },
    )


@requires(Permission.MANAGE_CARE_PLAN, patient_kwarg="patient_id")
@require_http_methods(["GET", "POST"])
def set_plan(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    current = selectors.current_care_plan(patient)
    initial = {}
    if current is not None:
        initial = {
            "plan": current.plan,
            "intake_at": timezone.localtime(current.intake_at),
            "end_of_course": current.end_of_course and timezone.localtime(current.end_of_course),
        }
    form = CarePlanForm(request.POST or None, initial=initial)
    acted = act_on_form(
        request,
        form,
        lambda data: services.set_care_plan(
            by=request.user,
            patient=patient,
            plan=data["plan"],
            intake_at=data["intake_at"],
            end_of_course=data["end_of_course"],
        ),
        done="Measurement plan saved.",
        then=resolve_url("measures:chart_tab", patient_id=patient.pk),
    )
    return acted or render(
        request,
        "measures/plan.html",
        {
            "patient": patient,
            "form": form,
            "history": selectors.care_plan_history(patient),
            "tab": "measures",
        },
    )


@requires(Permission.SEND_QUESTIONNAIRES, patient_kwarg="patient_id")
@require_http_methods(["GET", "POST"])
def send_due(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    if request.method == "GET":
        return redirect("measures:chart_tab", patient_id=patient.pk)
    try:
        questionnaire_set, token = services.send_due_questionnaires(
            by=request.user,
            patient=patient,
        )
    except InputError as exc:
        show_errors_as_messages(request, exc)
        return redirect("measures:chart_tab", patient_id=patient.pk)
    # Shown once: only the token's hash is kept, so this page is the only copy.
    link = request.build_absolute_uri(reverse("assessments:link", kwargs={"token": token}))
    return render(
        request,
        "measures/sent.html",
        {
            "patient": patient,
            "link": link,
            "questionnaire_set": questionnaire_set,
            "names": [short_name(n) for n in questionnaire_set.instruments],
            "tab": "measures",
        },
    )


@requires(Permission.SEE_WORK_QUEUE)
def work_queue(request: AuthenticatedHttpRequest) -> HttpResponse:
    queue = selectors.work_queue(user=request.user, now=timezone.now())
    return render(
        request,
        "measures/work_queue.html",
        {
            "queue": queue,
            "expired_days": EXPIRED_LISTED_FOR.days,
            "sees_all": request.user.staff_role in SEES_EVERY_CHART,
        },
    )
