"""The chart's Companion tab: invite the patient, resend, deactivate or reactivate their account."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from kapstone.clinical.access import Permission
from kapstone.companion import account_selectors, invitations
from kapstone.errors import InputError
from kapstone.patients.models import Patient
from kapstone.web.authz import requires
from kapstone.web.forms import show_service_errors
from kapstone.web.http import AuthenticatedHttpRequest


class InviteForm(forms.Form):
    email = forms.EmailField(
        label="Patient's e-mail address",
        help_text="The invitation link goes here; it works once, for "
        "7 days by default. The patient signs in with this address.",
    )


def _tab(
    request: AuthenticatedHttpRequest, patient: Patient, form: InviteForm, status: int = 200
) -> HttpResponse:
    account = account_selectors.account_of(patient)
    return render(
        request,
        "companion/chart_tab.html",
        {
            "patient": patient,
            "tab": "companion",
            "account": account,
            "form": form,
            "last_invitation": account_selectors.last_invitation(account) if account else None,
            "second_factor": account_selectors.has_second_factor(account) if account else False,
        },
        status=status,
    )


@requires(Permission.INVITE_TO_COMPANION, patient_kwarg="patient_id")
def chart_tab(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    account = account_selectors.account_of(patient)
    initial = account.email if account else patient.email
    return _tab(request, patient, InviteForm(initial={"email": initial}))


@requires(Permission.INVITE_TO_COMPANION, patient_kwarg="patient_id")
@require_POST
def invite(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponseBase:
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            invitations.invite_patient(
                by=request.user,
                patient=patient,
                email=form.cleaned_data["email"],
                now=timezone.now(),
            )
        except InputError as exc:
            show_service_errors(exc, form)
        else:
            messages.success(request, f"Invitation e-mailed to {form.cleaned_data['email']}.")
            return redirect("companion_staff:chart_tab", patient.pk)
    return _tab(request, patient, form, status=400)


@requires(Permission.INVITE_TO_COMPANION, patient_kwarg="patient_id")
@require_POST
def resend(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponseBase:
    try:
        account = invitations.resend_invitation(
            by=request.user, patient=patient, now=timezone.now()
        )
    except InputError as exc:
        for errors in exc.errors.values():
            for error in errors:
                messages.error(request, error)
    else:
        messages.success(request, f"A new invitation was e-mailed to {account.email}.")
    return redirect("companion_staff:chart_tab", patient.pk)


@requires(Permission.INVITE_TO_COMPANION, patient_kwarg="patient_id")
@require_POST
def set_active(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponseBase:
    active = request.POST.get("active") == "1"
    try:
        invitations.set_account_active(
            by=request.user, patient=patient, active=active, now=timezone.now()
        )
    except InputError as exc:
        for errors in exc.errors.values():
            for error in errors:
                messages.error(request, error)
    else:
        messages.success(
            request,
            "Companion account reactivated."
            if active
            else "Companion account deactivated: the patient can no longer sign in.",
        )
    return redirect("companion_staff:chart_tab", patient.pk)
