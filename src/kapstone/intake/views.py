"""The chart's Intake tab, its section pages, screening, and the eligibility review with sign-off."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from kapstone.clinical.access import Permission, may
from kapstone.errors import InputError
from kapstone.intake import selectors, services, signoff
from kapstone.intake.forms import EDITORS
from kapstone.intake.models import EligibilityReview, IntakeVersion
from kapstone.intake.presenting import (
    facts_summary,
    findings_view,
    questionnaire_view,
    trd_view,
)
from kapstone.intake.questionnaire_facts import latest_results
from kapstone.intake.sections import SECTIONS, SECTIONS_BY_KEY
from kapstone.intake.signoff_forms import CosignForm, SignForm
from kapstone.patients.models import Patient
from kapstone.patients.selectors import current_weight
from kapstone.web.authz import requires
from kapstone.web.forms import show_service_errors
from kapstone.web.http import AuthenticatedHttpRequest


def _may(request: AuthenticatedHttpRequest, patient: Patient, permission: Permission) -> bool:
    on_team = request.user.pk in patient.care_team_ids()
    return may(request.user.staff_role, permission, on_care_team=on_team)


def _section_value(intake: IntakeVersion | None, key: str) -> dict[str, Any]:
    if intake is None:
        return {}
    if key == "presentation":
        return dict(intake.presentation)
    return {k: intake.facts.get(k) for k in SECTIONS_BY_KEY[key].facts_keys if k in intake.facts}


@requires(Permission.OPEN_CHART, patient_kwarg="patient_id")
def chart_tab(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    intake = selectors.open_intake(user=request.user, patient=patient)
    review = selectors.current_review(patient)
    done = set(intake.sections_done) if intake else set()
    return render(
        request,
        "intake/chart_tab.html",
        {
            "patient": patient,
            "intake": intake,
            "sections": [
                {
                    "section": s,
                    "done": s.key in done,
                    "summary": facts_summary(intake, s.key) if s.key in done else [],
                }
                for s in SECTIONS
            ],
            "missing": selectors.missing_sections(intake),
            "questionnaires": questionnaire_view(
                latest_results(patient, policy=selectors.current_policy())
            ),
            "review": review,
            "reviews": selectors.review_history(patient, limit=20),
            "history": selectors.intake_history(patient)[:20],
            "may_edit": _may(request, patient, Permission.EDIT_PATIENT),
            "may_sign": _may(request, patient, Permission.SIGN_ELIGIBILITY),
            "tab": "intake",
        },
    )


@requires(Permission.EDIT_PATIENT, patient_kwarg="patient_id")
@require_http_methods(["GET", "POST"])
def section(
    request: AuthenticatedHttpRequest, patient: Patient, intake_section: str
) -> HttpResponse:
    found = SECTIONS_BY_KEY.get(intake_section)
    if found is None:
        raise Http404("No such intake section.")
    intake = selectors.current_intake(patient)
    editor = EDITORS[found.key](
        request.POST if request.method == "POST" else None, _section_value(intake, found.key)
    )
    if request.method == "POST" and editor.is_valid():
        value = editor.value()
        try:
            version = services.save_intake_section(
                by=request.user,
                patient=patient,
                section=found.key,
                value=value,
            )
        except InputError as exc:
            editor.place_errors(exc.errors)
        else:
            if version.complete:
                messages.success(request, f"{found.title} saved. The intake is complete.")
            else:
                messages.success(request, f"{found.title} saved. The intake is not complete yet.")
            return redirect("intake:chart_tab", patient_id=patient.pk)
    position = [s.key for s in SECTIONS].index(found.key)
    return render(
        request,
        "intake/section.html",
        {
            "patient": patient,
            "section": found,
            "editor": editor,
            "intake": intake,
            "questionnaires": questionnaire_view(
                latest_results(patient, policy=selectors.current_policy())
            )
            if found.key == "questionnaires"
            else None,
            "latest_measurement": current_weight(patient) if found.key == "vitals" else None,
            "next_section": SECTIONS[position + 1] if position + 1 < len(SECTIONS) else None,
            "tab": "intake",
        },
        status=400 if request.method == "POST" else 200,
    )


@requires(Permission.EDIT_PATIENT, patient_kwarg="patient_id")
@require_http_methods(["GET", "POST"])
def screen(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    if request.method == "GET":
        return redirect("intake:chart_tab", patient_id=patient.pk)
    try:
        review = services.screen(by=request.user, patient=patient)
    except InputError as exc:
        for errors in exc.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("intake:chart_tab", patient_id=patient.pk)
    messages.success(request, f"Screened: {review.screened_decision_label}.")
    return redirect("intake:review", patient_id=patient.pk, review_id=review.pk)


def _review_or_404(patient: Patient, review_id: int) -> EligibilityReview:
    review = selectors.get_review(patient, review_id)
    if review is None:
        raise Http404("No such eligibility review for this patient.")
    return review


def _review_context(
    request: AuthenticatedHttpRequest, patient: Patient, review: EligibilityReview
) -> dict[str, Any]:
    current = selectors.current_review(patient)
    signature = review.signature
    return {
        "patient": patient,
        "review": review,
        "is_current": current is not None and current.pk == review.pk,
        "superseded_by": getattr(review, "superseded_by", None)
        if current and current.pk != review.pk
        else None,
        "findings": findings_view(review.findings),
        "trd": trd_view(review.derived),
        "questionnaires": questionnaire_view(review.questionnaire_sources),
        "signature": signature,
        "overrides": selectors.overrides_of(signature),
        "cosignature": review.cosignature,
        "may_sign": _may(request, patient, Permission.SIGN_ELIGIBILITY),
        "may_cosign": _may(request, patient, Permission.COSIGN_ELIGIBILITY),
        "tab": "intake",
    }


@requires(Permission.OPEN_CHART, patient_kwarg="patient_id")
def review(request: AuthenticatedHttpRequest, patient: Patient, review_id: int) -> HttpResponse:
    found = selectors.open_review(user=request.user, patient=patient, review_id=review_id)
    if found is None:
        raise Http404("No such eligibility review for this patient.")
    return render(request, "intake/review.html", _review_context(request, patient, found))


@requires(Permission.SIGN_ELIGIBILITY, patient_kwarg="patient_id")
@require_http_methods(["GET", "POST"])
def sign(request: AuthenticatedHttpRequest, patient: Patient, review_id: int) -> HttpResponse:
    found = _review_or_404(patient, review_id)
    current = selectors.current_review(patient)
    if found.signature is not None or current is None or current.pk != found.pk:
        messages.error(
            request,
            "This review is already signed or superseded: screen again to amend the decision.",
        )
        return redirect("intake:review", patient_id=patient.pk, review_id=found.pk)
    form = SignForm(
        request.POST if request.method == "POST" else None,
        findings=found.findings,
        initial={"final_decision": found.screened_decision},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.sign(
                by=request.user,
                patient=patient,
                review=found,
                final_decision=form.cleaned_data["final_decision"],
                reasons=form.reasons(),
                note=form.cleaned_data["note"],
            )
        except InputError as exc:
            show_service_errors(exc, form, aliases=form.field_for)
        else:
            signed = selectors.get_review(patient, found.pk)
            if signed is not None and signed.fully_signed:
                messages.success(request, f"Signed: {signed.decision_label}.")
            else:
                messages.success(
                    request,
                    "Signed. Overriding an absolute finding counts only once the medical director "
                    "co-signs.",
                )
            return redirect("intake:review", patient_id=patient.pk, review_id=found.pk)
    context = _review_context(request, patient, found)
    context |= {"form": form, "proceeding": sorted(d.value for d in signoff.PROCEEDING)}
    return render(
        request, "intake/sign.html", context, status=400 if request.method == "POST" else 200
    )


@requires(Permission.COSIGN_ELIGIBILITY, patient_kwarg="patient_id")
@require_http_methods(["GET", "POST"])
def cosign(request: AuthenticatedHttpRequest, patient: Patient, review_id: int) -> HttpResponse:
    found = _review_or_404(patient, review_id)
    signature = found.signature
    current = selectors.current_review(patient)
    if (
        signature is None
        or not signature.needs_cosign
        or found.cosignature is not None
        or current is None
        or current.pk != found.pk
    ):
        messages.error(request, "This review has no sign-off waiting for your co-signature.")
        return redirect("intake:review", patient_id=patient.pk, review_id=found.pk)
    form = CosignForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.cosign(
                by=request.user,
                patient=patient,
                review=found,
                approve=form.cleaned_data["approve"],
                reason=form.cleaned_data["reason"],
            )
        except InputError as exc:
            show_service_errors(exc, form)
        else:
            messages.success(
                request,
                "Co-signed: the decision is signed."
                if form.cleaned_data["approve"]
                else "Override refused: screen again for a new decision.",
            )
            return redirect("intake:review", patient_id=patient.pk, review_id=found.pk)
    context = _review_context(request, patient, found) | {"form": form}
    return render(
        request, "intake/cosign.html", context, status=400 if request.method == "POST" else 200
    )
