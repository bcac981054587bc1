"""Coverage and esketamine prior authorisations: the clinic-wide list and one patient's page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from kapstone.clinical.access import Permission
from kapstone.coverage import selectors, services
from kapstone.coverage.forms import AuthorisationForm, CoverageForm, WithdrawForm
from kapstone.errors import InputError
from kapstone.patients.models import Patient
from kapstone.web.authz import requires
from kapstone.web.fields import strict_pk
from kapstone.web.forms import show_service_errors
from kapstone.web.found import or_404
from kapstone.web.http import AuthenticatedHttpRequest


@requires(Permission.SEE_AUTHORISATIONS)
@require_GET
def board(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(
        request,
        "coverage/board.html",
        {
            "statuses": selectors.authorisations_board(),
            "unauthorised": selectors.esketamine_without_authorisation(),
        },
    )


def _forms(request: AuthenticatedHttpRequest, patient: Patient, which: str) -> dict[str, Any]:
    data = request.POST if request.method == "POST" else None
    return {
        "coverage": CoverageForm(data if which == "coverage" else None, prefix="cov"),
        "authorisation": AuthorisationForm(
            data if which == "authorisation" else None,
            prefix="auth",
            coverages=selectors.coverage_choices(patient),
        ),
        "withdraw": WithdrawForm(data if which == "withdraw" else None, prefix="wd"),
    }


def _act(
    request: AuthenticatedHttpRequest, patient: Patient, which: str, forms: dict[str, Any]
) -> str:
    form = forms.get(which)
    if form is None or not form.is_valid():
        return ""
    data, user = form.cleaned_data, request.user
    try:
        if which == "coverage":
            services.add_coverage(
                by=user,
                patient=patient,
                payer=data["payer"],
                member_id=data["member_id"],
                group_number=data["group_number"],
                benefit=data["benefit"],
            )
            return "Coverage recorded."
        if which == "authorisation":
            auth = services.record_authorisation(
                by=user,
                coverage=data["coverage"],
                number=data["number"],
                approved_units=data["approved_units"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
            )
            return f"Prior authorisation {auth.number} recorded."
        authorisation = or_404(
            selectors.authorisation_of(patient, strict_pk(request.POST.get("authorisation"))),
            "No such authorisation for this patient.",
        )
        services.withdraw_authorisation(by=user, authorisation=authorisation, reason=data["reason"])
        return f"Prior authorisation {authorisation.number} withdrawn."
    except InputError as exc:
        show_service_errors(exc, form)
        return ""


@requires(Permission.RECORD_COVERAGE, patient_kwarg="patient_id")
@require_http_methods(["GET", "POST"])
def patient_coverage(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    which = request.POST.get("form", "")
    forms = _forms(request, patient, which)
    if request.method == "POST":
        done = _act(request, patient, which, forms)
        if done:
            messages.success(request, done)
            return redirect("coverage:patient", patient_id=patient.pk)
    return render(
        request,
        "coverage/patient.html",
        {
            "patient": patient,
            "coverages": selectors.coverages_of(patient),
            "status": selectors.status_of(patient),
            "forms": forms,
        },
    )
