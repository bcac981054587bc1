"""Program templates (the medical director's pages) and the chart's Plan tab: drafting, the
therapist's choice of modalities, signing, and the PDFs of the plan and of the patient's
relapse-prevention plan."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render, resolve_url
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from kapstone.clinical.access import Modality, Permission, may
from kapstone.clinical.routes import Route
from kapstone.intake.selectors import signed_eligibility
from kapstone.patients.models import Patient
from kapstone.patients.selectors import current_weight
from kapstone.plans import selectors, services
from kapstone.plans.forms import (
    ModalitiesForm,
    PlanDraftForm,
    ProgramTemplateForm,
    SignPlanForm,
    initial_from_plan,
)
from kapstone.plans.models import ProgramTemplateVersion, TreatmentPlan
from kapstone.plans.signing import signing_refusal
from kapstone.web.actions import act_on_form
from kapstone.web.authz import requires
from kapstone.web.downloads import document_filename
from kapstone.web.found import or_404
from kapstone.web.http import AuthenticatedHttpRequest
from kapstone.web.pdf import html_to_pdf


def _posted(request: HttpRequest) -> Any:
    """The POST data for a bound form (an empty POST, such as an unticked box, still binds)."""
    return request.POST if request.method == "POST" else None


def _may(request: AuthenticatedHttpRequest, patient: Patient, permission: Permission) -> bool:
    on_team = request.user.pk in patient.care_team_ids()
    return may(request.user.staff_role, permission, on_care_team=on_team)


def _template_or_404(template_id: int) -> ProgramTemplateVersion:
    return or_404(selectors.template_version(template_id), "No such program template version.")


def _program_url(version: ProgramTemplateVersion) -> str:
    return resolve_url("plans:program", template_id=version.pk)


def _plan_or_404(patient: Patient, plan_id: int) -> TreatmentPlan:
    return or_404(selectors.get_plan(patient, plan_id), "No such plan version for this patient.")


# --- program templates ------------------------------------------------------------------------


@requires(Permission.MANAGE_PROGRAMS)
def program_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(
        request, "plans/program_list.html", {"templates": list(selectors.current_templates())}
    )


@requires(Permission.MANAGE_PROGRAMS)
def program_detail(request: AuthenticatedHttpRequest, template_id: int) -> HttpResponse:
    version = _template_or_404(template_id)
    return render(
        request,
        "plans/program_detail.html",
        {
            "version": version,
            "template": version.as_template(),
            "versions": selectors.template_versions(version.key),
            "current": selectors.is_current(version),
            "measurement_plan": selectors.measurement_plan_text(version),
            "plans_made": selectors.plans_made_from(version),
        },
    )


@requires(Permission.MANAGE_PROGRAMS)
@require_http_methods(["GET", "POST"])
def program_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ProgramTemplateForm(
        _posted(request), new=True, initial=ProgramTemplateForm.initial_from(None)
    )
    acted = act_on_form(
        request,
        form,
        lambda data: services.add_program_template(
            by=request.user, key=data["key"], changes=form.changes(), reason=data["reason"]
        ),
        done=lambda version: f"Program {version.name} added (version {version.version}).",
        then=_program_url,
    )
    return acted or render(request, "plans/program_form.html", {"form": form, "version": None})


@requires(Permission.MANAGE_PROGRAMS)
@require_http_methods(["GET", "POST"])
def program_edit(request: AuthenticatedHttpRequest, template_id: int) -> HttpResponse:
    version = _template_or_404(template_id)
    current = selectors.is_current(version)
    form = ProgramTemplateForm(
        _posted(request), new=False, initial=ProgramTemplateForm.initial_from(version)
    )
    acted = act_on_form(
        request,
        form,
        lambda data: services.edit_program_template(
            by=request.user, previous=version, changes=form.changes(), reason=data["reason"]
        ),
        done=lambda new: (
            f"{new.name}: version {new.version} is in force; plans made from version "
            f"{version.version} keep it."
        ),
        then=_program_url,
    )
    return acted or render(
        request,
        "plans/program_form.html",
        {"form": form, "version": version, "current": current},
    )


# --- the chart's Plan tab ---------------------------------------------------------------------


def _plan_context(
    request: AuthenticatedHttpRequest, patient: Patient, plan: TreatmentPlan
) -> dict[str, Any]:
    view = selectors.plan_view(plan)
    latest = selectors.latest_plan(patient)
    is_latest = latest is not None and latest.pk == plan.pk
    return {
        "patient": patient,
        "view": view,
        "plan": plan,
        "is_latest": is_latest,
        "latest": latest,
        "in_force": selectors.plan_in_force(patient),
        "may_draft": _may(request, patient, Permission.MANAGE_TREATMENT_PLAN),
        "may_modalities": _may(request, patient, Permission.MANAGE_CARE_PLAN),
        "history": selectors.plan_history(patient),
        "tab": "plan",
    }


@requires(Permission.OPEN_CHART, patient_kwarg="patient_id")
def chart_tab(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    plan = selectors.latest_plan(patient)
    if plan is None:
        review = signed_eligibility(patient)
        return render(
            request,
            "plans/chart_tab.html",
            {
                "patient": patient,
                "plan": None,
                "eligibility": review,
                "eligibility_label": review.decision_label if review else "",
                "may_draft": _may(request, patient, Permission.MANAGE_TREATMENT_PLAN),
                "tab": "plan",
            },
        )
    services.record_plan_read(by=request.user, plan=plan, what="page")
    return render(request, "plans/chart_tab.html", _plan_context(request, patient, plan))


@requires(Permission.OPEN_CHART, patient_kwarg="patient_id")
def detail(request: AuthenticatedHttpRequest, patient: Patient, plan_id: int) -> HttpResponse:
    plan = _plan_or_404(patient, plan_id)
    services.record_plan_read(by=request.user, plan=plan, what="page")
    return render(request, "plans/detail.html", _plan_context(request, patient, plan))


@requires(Permission.MANAGE_TREATMENT_PLAN, patient_kwarg="patient_id")
@require_http_methods(["GET", "POST"])
def draft(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    latest = selectors.latest_plan(patient)
    offered = selectors.programs_offered(latest)
    form = PlanDraftForm(
        _posted(request),
        patient=patient,
        programs_offered=offered,
        initial=initial_from_plan(latest, patient),
    )
    acted = act_on_form(
        request,
        form,
        lambda d: services.save_draft(
            by=request.user,
            patient=patient,
            program=d["program"],
            route=Route(d["route"]),
            dose_basis=d["dose_basis"],
            dose_steps=d["dose"],
            concentration_mg_per_ml=d["concentration_mg_per_ml"],
            infusion_minutes=d["infusion_minutes"],
            dose_change_reason=d["dose_change_reason"],
            preparation=form.preparation(),
            consent=form.consent(),
            relapse_prevention=form.relapse_prevention(),
            change_reason=d["change_reason"],
            expected_revision=d["expected_revision"],
        ),
        done=lambda plan: f"Plan version {plan.revision} saved as a draft.",
        then=resolve_url("plans:chart_tab", patient_id=patient.pk),
    )
    return acted or render(
        request,
        "plans/draft.html",
        {
            "patient": patient,
            "form": form,
            "latest": latest,
            "programs": [(v, v.as_template()) for v in offered],
            "weight": current_weight(patient),
            "tab": "plan",
        },
    )


@requires(Permission.MANAGE_CARE_PLAN, patient_kwarg="patient_id")
@require_http_methods(["GET", "POST"])
def modalities(request: AuthenticatedHttpRequest, patient: Patient, plan_id: int) -> HttpResponse:
    plan = _plan_or_404(patient, plan_id)
    template = plan.program.as_template()
    form = ModalitiesForm(
        _posted(request),
        offered=list(template.modalities),
        initial={"modalities": plan.modalities, "reason": plan.modalities_reason},
    )
    acted = act_on_form(
        request,
        form,
        lambda data: services.confirm_modalities(
            by=request.user,
            plan=plan,
            modalities=[Modality(m) for m in data["modalities"]],
            reason=data["reason"],
        ),
        done=lambda new: f"Integration modalities saved (plan version {new.revision}).",
        then=resolve_url("plans:chart_tab", patient_id=patient.pk),
    )
    return acted or render(
        request,
        "plans/modalities.html",
        {
            "patient": patient,
            "plan": plan,
            "view": selectors.plan_view(plan),
            "form": form,
            "therapists": selectors.credentialed_therapists(patient),
            "tab": "plan",
        },
    )


@requires(Permission.MANAGE_TREATMENT_PLAN, patient_kwarg="patient_id")
@require_http_methods(["GET", "POST"])
def sign(request: AuthenticatedHttpRequest, patient: Patient, plan_id: int) -> HttpResponse:
    plan = _plan_or_404(patient, plan_id)
    form = SignPlanForm(_posted(request))
    acted = act_on_form(
        request,
        form,
        lambda data: services.sign_plan(by=request.user, plan=plan),
        done=lambda _: f"Plan version {plan.revision} signed.",
        then=resolve_url("plans:chart_tab", patient_id=patient.pk),
    )
    if acted is not None:
        return acted
    view = selectors.plan_view(plan)
    review = signed_eligibility(patient)
    refusal = signing_refusal(
        review.decision if review else None,
        request.user.staff_role,
    )
    return render(
        request,
        "plans/sign.html",
        {
            "patient": patient,
            "plan": plan,
            "view": view,
            "form": form,
            "refusal": refusal,
            "eligibility": review,
            "eligibility_label": review.decision_label if review else "",
            "tab": "plan",
        },
    )


# --- printable documents ----------------------------------------------------------------------


def _pdf(
    request: HttpRequest, template: str, context: dict[str, Any], filename: str
) -> HttpResponse:
    html = render_to_string(template, context, request=request)
    response = HttpResponse(html_to_pdf(html), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@requires(Permission.OPEN_CHART, patient_kwarg="patient_id")
def pdf(request: AuthenticatedHttpRequest, patient: Patient, plan_id: int) -> HttpResponse:
    plan = _plan_or_404(patient, plan_id)
    services.record_plan_read(by=request.user, plan=plan, what="pdf")
    context = {
        "patient": patient,
        "view": selectors.plan_view(plan),
        "plan": plan,
        "generated_at": timezone.now(),
    }
    return _pdf(
        request,
        "plans/plan_pdf.html",
        context,
        document_filename(
            f"treatment-plan-v{plan.revision}", timezone.localdate(plan.created_at), plan
        ),
    )


@requires(Permission.OPEN_CHART, patient_kwarg="patient_id")
def relapse_pdf(request: AuthenticatedHttpRequest, patient: Patient, plan_id: int) -> HttpResponse:
    plan = _plan_or_404(patient, plan_id)
    services.record_plan_read(by=request.user, plan=plan, what="relapse_pdf")
    context = {"patient": patient, "plan": plan, "generated_at": timezone.now()}
    return _pdf(
        request,
        "plans/relapse_pdf.html",
        context,
        document_filename(
            f"relapse-prevention-plan-v{plan.revision}", timezone.localdate(plan.created_at), plan
        ),
    )
