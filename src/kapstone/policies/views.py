"""The medical director's monitoring-policy page: what is in force, its sources, and its history."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from kapstone.clinical.access import Permission
from kapstone.clinical.monitoring_policy import DEFAULT_MONITORING_POLICY
from kapstone.errors import InputError
from kapstone.policies import selectors, services
from kapstone.policies.forms import MonitoringPolicyForm
from kapstone.web.authz import requires
from kapstone.web.forms import show_service_errors
from kapstone.web.http import AuthenticatedHttpRequest


@requires(Permission.MANAGE_CLINIC_POLICY)
@require_http_methods(["GET", "POST"])
def monitoring(request: AuthenticatedHttpRequest) -> HttpResponse:
    current = selectors.current_monitoring_policy()
    form = MonitoringPolicyForm(
        request.POST or None, default=DEFAULT_MONITORING_POLICY, current=current
    )
    if request.method == "POST" and form.is_valid():
        try:
            row = services.set_monitoring_policy(
                by=request.user,
                overrides=form.overrides(),
                reason=form.cleaned_data["reason"],
            )
        except InputError as exc:
            show_service_errors(exc, form)
        else:
            messages.success(request, f"Monitoring policy {row.version} is in force.")
            return redirect("policies:monitoring")
    return render(
        request,
        "policies/monitoring.html",
        {
            "form": form,
            "current": current,
            "pre_dose_fields": form.limit_fields("pre_dose"),
            "discharge_fields": form.limit_fields("discharge"),
            "device_fields": form.limit_fields("device"),
            "history": selectors.policy_history(),
        },
    )
