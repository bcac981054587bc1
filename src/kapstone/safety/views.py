"""The alert board, a patient's alerts, acknowledging an alert and reviewing a dosing hold."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render, resolve_url
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from kapstone.clinical.access import Permission, may
from kapstone.patients.models import Patient
from kapstone.safety import selectors, services
from kapstone.safety.forms import AcknowledgeForm, HoldReviewForm
from kapstone.web.actions import act_on_form
from kapstone.web.authz import requires
from kapstone.web.found import or_404
from kapstone.web.http import AuthenticatedHttpRequest


@requires(Permission.SEE_ALERT_BOARD)
def board(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    context = {
        "open_alerts": selectors.open_alerts(user),
        "acknowledged": selectors.recently_acknowledged(user),
        "now": timezone.now(),
    }
    # The board refreshes itself (htmx) so an alert raised while it is open appears within a minute.
    template = "safety/_board_alerts.html" if request.htmx else "safety/board.html"
    return render(request, template, context)


@requires(Permission.SEE_ALERT_BOARD)
def banner(request: AuthenticatedHttpRequest) -> HttpResponse:
    count = selectors.open_alert_count(request.user)
    return render(request, "safety/_banner.html", {"open_alert_count": count})


@requires(Permission.OPEN_CHART, patient_kwarg="patient_id")
def chart_tab(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    role = request.user.staff_role
    return render(
        request,
        "safety/chart_tab.html",
        {
            "patient": patient,
            "alerts": selectors.alerts_for_patient(patient),
            "hold": selectors.active_hold(patient),
            "may_acknowledge": may(role, Permission.ACKNOWLEDGE_ALERT, on_care_team=True),
            "may_review": may(role, Permission.REVIEW_DOSING_HOLD, on_care_team=True),
            "tab": "alerts",
        },
    )


@requires(Permission.ACKNOWLEDGE_ALERT, patient_kwarg="patient_id")
@require_http_methods(["GET", "POST"])
def acknowledge(request: AuthenticatedHttpRequest, patient: Patient, alert_id: int) -> HttpResponse:
    alert = or_404(selectors.alert_of(patient, alert_id), "No such alert for this patient.")
    form = AcknowledgeForm(request.POST or None)
    acted = act_on_form(
        request,
        form,
        lambda data: services.acknowledge_alert(
            by=request.user, alert=alert, actions=data["actions"], note=data["note"]
        ),
        done="Alert acknowledged; the action taken is on the record.",
        then=resolve_url("safety:chart_tab", patient_id=patient.pk),
    )
    return acted or render(
        request,
        "safety/acknowledge.html",
        {"patient": patient, "alert": alert, "form": form, "tab": "alerts"},
    )


@requires(Permission.REVIEW_DOSING_HOLD, patient_kwarg="patient_id")
@require_http_methods(["GET", "POST"])
def review_hold(request: AuthenticatedHttpRequest, patient: Patient, hold_id: int) -> HttpResponse:
    hold = or_404(selectors.hold_of(patient, hold_id), "No such dosing hold for this patient.")
    form = HoldReviewForm(request.POST or None)
    acted = act_on_form(
        request,
        form,
        lambda data: services.review_hold(
            by=request.user, hold=hold, assessment=data["assessment"]
        ),
        done="Review documented: dosing may be booked again.",
        then=resolve_url("safety:chart_tab", patient_id=patient.pk),
    )
    return acted or render(
        request,
        "safety/review_hold.html",
        {"patient": patient, "hold": hold, "form": form, "tab": "alerts"},
    )
