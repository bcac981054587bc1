"""The patient's consent and relapse-prevention plan. Views translate: the consents and plans
apps' selectors read, their services write (as the patient's own acts)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kapstone.assessments.templatetags.crisis import crisis_resources
from kapstone.companion.access import patient_only
from kapstone.companion.models import PatientAccount
from kapstone.companion.plan_forms import SignConsentForm, WithdrawConsentForm
from kapstone.companion.plan_reads import record_relapse_plan_read
from kapstone.consents import selectors as consents
from kapstone.consents import services as consent_services
from kapstone.errors import InputError
from kapstone.patients.models import Patient
from kapstone.plans import selectors as plans
from kapstone.plans.models import TreatmentPlan
from kapstone.web.forms import show_service_errors


def _plan_for_consent(patient: Patient) -> TreatmentPlan | None:
    """The plan the patient consents to: the signed plan in force, else the latest draft."""
    return plans.plan_in_force(patient) or plans.latest_plan(patient)


def _client(request: HttpRequest) -> tuple[str | None, str]:
    return request.META.get("REMOTE_ADDR") or None, request.META.get("HTTP_USER_AGENT", "")


@patient_only
@require_http_methods(["GET", "POST"])
def consent(request: HttpRequest, *, account: PatientAccount, patient: Patient) -> HttpResponse:
    plan = _plan_for_consent(patient)
    document = consents.document_in_force(language=account.language)
    standing = consents.standing_signature(patient=patient, plan=plan) if plan else None
    form = None
    if plan is not None and document is not None and standing is None:
        form = SignConsentForm(
            request.POST if request.method == "POST" else None,
            initial={"shown_hash": document.content_hash},
        )
        if request.method == "POST" and form.is_valid():
            ip, agent = _client(request)
            try:
                consent_services.sign_consent(
                    account=account,
                    plan=plan,
                    document=document,
                    shown_hash=form.cleaned_data["shown_hash"],
                    typed_name=form.cleaned_data["typed_name"],
                    read_and_understood=form.cleaned_data["read_and_understood"],
                    at=timezone.now(),
                    ip_address=ip,
                    user_agent=agent,
                )
            except InputError as exc:
                show_service_errors(exc, form)
            else:
                messages.success(request, _("Thank you. Your consent is signed."))
                return redirect("companion:consent")
    if document is not None and request.method == "GET":
        consent_services.record_consent_read(account=account, document=document)
    return render(
        request,
        "consents/consent.html",
        {
            "account": account,
            "patient": patient,
            "nav": "consent",
            "plan": plan,
            "document": document,
            "paragraphs": document.text.split("\n\n") if document else [],
            "standing": standing,
            "form": form,
            "withdraw_form": WithdrawConsentForm() if standing else None,
        },
    )


@patient_only
@require_POST
def consent_withdraw(
    request: HttpRequest, *, account: PatientAccount, patient: Patient
) -> HttpResponseBase:
    plan = _plan_for_consent(patient)
    form = WithdrawConsentForm(request.POST)
    if plan is not None and form.is_valid():
        ip, agent = _client(request)
        try:
            consent_services.withdraw_consent(
                account=account,
                plan=plan,
                typed_name=form.cleaned_data["typed_name"],
                at=timezone.now(),
                ip_address=ip,
                user_agent=agent,
            )
        except InputError as exc:
            for errors in exc.errors.values():
                for error in errors:
                    messages.error(request, error)
        else:
            messages.success(
                request, _("Your consent is withdrawn. Your clinic will talk with you about it.")
            )
    else:
        messages.error(request, _("Type your full name to withdraw your consent."))
    return redirect("companion:consent")


@patient_only
def relapse_plan(
    request: HttpRequest, *, account: PatientAccount, patient: Patient
) -> HttpResponse:
    plan = plans.plan_in_force(patient)
    record_relapse_plan_read(account=account, plan=plan)
    return render(
        request,
        "companion/relapse_plan.html",
        {
            "account": account,
            "patient": patient,
            "nav": "relapse_plan",
            "plan": plan,
            # The same contacts as the footer, shown first on this page (settings KAPSTONE_CRISIS_*).
            "crisis": crisis_resources(),
        },
    )
