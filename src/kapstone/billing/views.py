"""The biller's pages: the charge queue, a patient's account and statement, claims; the superbill
and CMS-1500 PDFs and the 837P file."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from kapstone.billing import documents, pdf, selectors, services
from kapstone.billing.forms import (
    BillingProviderForm,
    ClaimForm,
    ClaimStatusForm,
    ClinicianNumberForm,
    DiagnosesForm,
    EntryForm,
    FeeScheduleVersionForm,
    PayerForm,
    RecodeForm,
    ReverseEntryForm,
    VoidForm,
    guessed_address,
)
from kapstone.billing.models import Payer
from kapstone.clinical.access import Permission, may
from kapstone.clinical.billing.codes import DEFAULT_CODE_TABLE, CodeKind
from kapstone.errors import InputError
from kapstone.patients.models import Patient
from kapstone.web.authz import requires
from kapstone.web.downloads import document_filename
from kapstone.web.forms import choose_from, saved, show_service_errors
from kapstone.web.found import or_404
from kapstone.web.http import AuthenticatedHttpRequest


def _may(request: AuthenticatedHttpRequest, permission: Permission) -> bool:
    return may(request.user.staff_role, permission, on_care_team=True)


@requires(Permission.SEE_CHARGES)
def queue(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(
        request,
        "billing/queue.html",
        {
            "page": (page := selectors.charge_queue_page(request.GET.get("page"))),
            "lines": page.object_list,
            "balances": selectors.accounts_with_balance(),
            "may_finalise": _may(request, Permission.FINALISE_CHARGES),
            "may_set_up": _may(request, Permission.MANAGE_BILLING_SETUP),
        },
    )


@requires(Permission.FINALISE_CHARGES)
@require_POST
def finalise(request: AuthenticatedHttpRequest, line_id: int) -> HttpResponse:
    line = or_404(selectors.line_of(line_id), "No such charge line.")
    try:
        services.finalise_charge(by=request.user, line=line)
    except InputError as exc:
        for errors in exc.errors.values():
            for error in errors:
                messages.error(request, error)
    else:
        messages.success(
            request, f"{line.code} x{line.units} for {line.patient.display_name} finalised."
        )
    return redirect("billing:queue")


@requires(Permission.FINALISE_CHARGES)
@require_http_methods(["GET", "POST"])
def recode(request: AuthenticatedHttpRequest, line_id: int) -> HttpResponse:
    line = or_404(selectors.line_of(line_id), "No such charge line.")
    initial = {
        "code": line.code,
        "units": line.units,
        "modifiers": ", ".join(line.modifiers),
        "diagnoses": ", ".join(line.diagnoses),
        "diagnosis_pointers": ", ".join(str(p) for p in line.diagnosis_pointers) or "1",
        "place_of_service": line.place_of_service,
    }
    post = request.POST if request.method == "POST" else None
    form = RecodeForm(post if post and "code" in post else None, initial=initial)
    void_form = VoidForm(post if post and "code" not in post else None)
    if post is not None and "code" in post and form.is_valid():
        data = form.cleaned_data
        try:
            services.recode_charge(
                by=request.user,
                line=line,
                code=data["code"],
                units=data["units"],
                modifiers=data["modifiers"],
                diagnoses=data["diagnoses"],
                pointers=data["diagnosis_pointers"],
                place_of_service=data["place_of_service"],
                reason=data["reason"],
            )
        except InputError as exc:
            show_service_errors(exc, form)
        else:
            messages.success(request, "Line recoded: finalise it from the queue.")
            return redirect("billing:queue")
    if post is not None and "code" not in post and void_form.is_valid():
        try:
            services.void_charge(
                by=request.user, line=line, reason=void_form.cleaned_data["reason"]
            )
        except InputError as exc:
            show_service_errors(exc, void_form)
        else:
            messages.success(request, "Line voided.")
            return redirect("billing:queue")
    return render(
        request, "billing/recode.html", {"line": line, "form": form, "void_form": void_form}
    )


@requires(Permission.SEE_CHARGES)
def claims(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "billing/claims.html", {"claims": selectors.claims()})


def _entry_form(data: QueryDict | None, patient: Patient) -> EntryForm:
    form = EntryForm(data, initial={"effective_on": timezone.localdate(), "kind": "payment"})
    choose_from(
        form, "payer", [("", "The patient"), *[(str(p.pk), p.name) for p in selectors.payers()]]
    )
    return form


@requires(Permission.SEE_ACCOUNT, patient_kwarg="patient_id")
def account(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    return render(
        request,
        "billing/account.html",
        _account_context(request, patient, _entry_form(None, patient)),
    )


def _account_context(
    request: AuthenticatedHttpRequest,
    patient: Patient,
    form: EntryForm,
    diagnoses_form: DiagnosesForm | None = None,
) -> dict[str, object]:
    current = selectors.diagnoses_of(patient)
    return {
        "diagnoses": current,
        "diagnoses_form": diagnoses_form or DiagnosesForm(initial={"codes": ", ".join(current)}),
        "patient": patient,
        "account": selectors.account_of(patient),
        "claims": selectors.claims_of(patient),
        "form": form,
        "provider": selectors.provider_for(patient),
        "may_post": _may(request, Permission.POST_PAYMENTS),
        "may_claim": _may(request, Permission.MANAGE_CLAIMS),
        "dollars": documents.dollars,
    }


@requires(Permission.POST_PAYMENTS, patient_kwarg="patient_id")
@require_http_methods(["GET", "POST"])
def post_entry(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    form = _entry_form(request.POST if request.method == "POST" else None, patient)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        payer = next((p for p in selectors.payers() if str(p.pk) == data["payer"]), None)
        try:
            services.post_entry(
                by=request.user,
                patient=patient,
                kind=data["kind"],
                cents=data["amount"],
                effective_on=data["effective_on"],
                payer=payer,
                method=data["method"],
                reference=data["reference"],
                memo=data["memo"],
            )
        except InputError as exc:
            show_service_errors(exc, form, aliases={"cents": "amount"})
        else:
            messages.success(request, "Posted to the account.")
            return redirect("billing:account", patient_id=patient.pk)
    return render(request, "billing/account.html", _account_context(request, patient, form))


@requires(Permission.POST_PAYMENTS, patient_kwarg="patient_id")
@require_http_methods(["GET", "POST"])
def reverse_entry(
    request: AuthenticatedHttpRequest, patient: Patient, entry_id: int
) -> HttpResponse:
    entry = or_404(selectors.entry_of(patient, entry_id), "No such entry on this account.")
    form = ReverseEntryForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.reverse_entry(by=request.user, entry=entry, reason=form.cleaned_data["reason"])
        except InputError as exc:
            show_service_errors(exc, form)
        else:
            messages.success(request, "Entry reversed.")
            return redirect("billing:account", patient_id=patient.pk)
    return render(
        request, "billing/reverse_entry.html", {"patient": patient, "entry": entry, "form": form}
    )


@requires(Permission.SEE_ACCOUNT, patient_kwarg="patient_id")
def superbill(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    context = documents.superbill(patient)
    services.record_claim_read(by=request.user, patient=patient, what="superbill")
    response = HttpResponse(pdf.superbill_pdf(context), content_type="application/pdf")
    filename = document_filename("superbill", timezone.localdate(), patient)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@requires(Permission.MANAGE_CLAIMS, patient_kwarg="patient_id")
@require_http_methods(["GET", "POST"])
def new_claim(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    billable = selectors.billable_lines(patient)
    initial = (
        guessed_address(patient.address)
        | selectors.claim_defaults(patient)
        | {"lines": [str(line.pk) for line in billable]}
    )
    form = ClaimForm(request.POST if request.method == "POST" else None, initial=initial)
    choose_from(form, "payer", [(str(p.pk), p.name) for p in selectors.payers()])
    choose_from(
        form,
        "lines",
        [
            (
                str(line.pk),
                f"{line.service_date:%m/%d/%Y} {line.code} x{line.units} {documents.dollars(line.fee_cents)}",
            )
            for line in billable
        ],
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        payer = next(p for p in selectors.payers() if str(p.pk) == data["payer"])
        chosen = [line for line in billable if str(line.pk) in data["lines"]]
        try:
            claim = services.create_claim(
                by=request.user,
                patient=patient,
                payer=payer,
                lines=chosen,
                member_id=data["member_id"],
                group_number=data["group_number"],
                address_line=data["address_line"],
                city=data["city"],
                state=data["state"],
                postal_code=data["postal_code"],
            )
        except InputError as exc:
            show_service_errors(exc, form)
        else:
            messages.success(
                request, f"Claim {claim.control_number} made: send it, then record it as submitted."
            )
            return redirect("billing:claim", patient_id=patient.pk, claim_id=claim.pk)
    return render(
        request, "billing/new_claim.html", {"patient": patient, "form": form, "billable": billable}
    )


@requires(Permission.SEE_ACCOUNT, patient_kwarg="patient_id")
def claim(request: AuthenticatedHttpRequest, patient: Patient, claim_id: int) -> HttpResponse:
    row = or_404(selectors.claim_of(patient, claim_id), "No such claim for this patient.")
    return render(request, "billing/claim.html", _claim_context(request, row, ClaimStatusForm()))


def _claim_context(
    request: AuthenticatedHttpRequest, row: selectors.ClaimRow, form: ClaimStatusForm
) -> dict[str, object]:
    return documents.cms1500(row) | {
        "row": row,
        "form": form,
        "may_claim": _may(request, Permission.MANAGE_CLAIMS),
    }


@requires(Permission.MANAGE_CLAIMS, patient_kwarg="patient_id")
@require_http_methods(["GET", "POST"])
def claim_status(
    request: AuthenticatedHttpRequest, patient: Patient, claim_id: int
) -> HttpResponse:
    row = or_404(selectors.claim_of(patient, claim_id), "No such claim for this patient.")
    form = ClaimStatusForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.record_claim_status(
                by=request.user,
                claim=row.claim,
                status=data["status"],
                reason=data["reason"],
                reference=data["reference"],
            )
        except InputError as exc:
            show_service_errors(exc, form)
        else:
            messages.success(request, "Claim status recorded.")
            return redirect("billing:claim", patient_id=patient.pk, claim_id=row.claim.pk)
    return render(request, "billing/claim.html", _claim_context(request, row, form))


@requires(Permission.SEE_ACCOUNT, patient_kwarg="patient_id")
def cms1500(request: AuthenticatedHttpRequest, patient: Patient, claim_id: int) -> HttpResponse:
    row = or_404(selectors.claim_of(patient, claim_id), "No such claim for this patient.")
    services.record_claim_read(by=request.user, patient=patient, what="cms1500", claim=row.claim)
    response = HttpResponse(pdf.cms1500_pdf(documents.cms1500(row)), content_type="application/pdf")
    filename = document_filename("cms1500", row.claim.created_at.date(), row.claim)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@requires(Permission.MANAGE_CLAIMS, patient_kwarg="patient_id")
def x12(request: AuthenticatedHttpRequest, patient: Patient, claim_id: int) -> HttpResponse:
    row = or_404(selectors.claim_of(patient, claim_id), "No such claim for this patient.")
    try:
        text = documents.x12_of(row, now=timezone.now())
    except ValueError as exc:
        messages.error(request, f"The 837P could not be written: {exc}")
        return redirect("billing:claim", patient_id=patient.pk, claim_id=row.claim.pk)
    services.record_claim_read(by=request.user, patient=patient, what="x12", claim=row.claim)
    response = HttpResponse(text, content_type="application/edi-x12")
    filename = document_filename(
        "claim-837p", row.claim.created_at.date(), row.claim, extension="x12"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@requires(Permission.MANAGE_CLAIMS, patient_kwarg="patient_id")
@require_http_methods(["GET", "POST"])
def diagnoses(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    form = DiagnosesForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_diagnoses(
                by=request.user, patient=patient, codes=form.cleaned_data["codes"]
            )
        except InputError as exc:
            show_service_errors(exc, form)
        else:
            messages.success(request, "Diagnoses for claims saved.")
            return redirect("billing:account", patient_id=patient.pk)
    if request.method == "GET":
        return redirect("billing:account", patient_id=patient.pk)
    context = _account_context(request, patient, _entry_form(None, patient), form)
    return render(request, "billing/account.html", context)


# Billing setup: payers, the practice's billing numbers per site, clinicians' NPIs, fee schedules.

_PRICED_KINDS = (CodeKind.CPT, CodeKind.HCPCS, CodeKind.CPT_III)


@requires(Permission.MANAGE_BILLING_SETUP)
def setup(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(
        request,
        "billing/setup.html",
        {
            "payers": selectors.setup_payers(),
            "sites": selectors.site_providers(),
            "clinicians": selectors.rendering_clinicians(),
            "schedules": selectors.fee_schedules(),
        },
    )


def _payer_page(request: AuthenticatedHttpRequest, payer: Payer | None) -> HttpResponse:
    initial = {}
    if payer is not None:
        initial = {
            k: getattr(payer, k)
            for k in ("name", "payer_id", "address_line", "city", "state", "postal_code")
        }
    form = PayerForm(request.POST if request.method == "POST" else None, initial=initial)
    if saved(
        request,
        form,
        lambda data: services.save_payer(by=request.user, payer=payer, **data),
        success="Payer saved.",
    ):
        return redirect("billing:setup")
    return render(request, "billing/setup_payer.html", {"form": form, "payer": payer})


@requires(Permission.MANAGE_BILLING_SETUP)
@require_http_methods(["GET", "POST"])
def payer_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _payer_page(request, None)


@requires(Permission.MANAGE_BILLING_SETUP)
@require_http_methods(["GET", "POST"])
def payer_edit(request: AuthenticatedHttpRequest, payer_id: int) -> HttpResponse:
    return _payer_page(request, or_404(selectors.payer_of(payer_id), "No such payer."))


def _chosen_id(text: object) -> int | None:
    return int(text) if isinstance(text, str) and text.isdigit() else None


@requires(Permission.MANAGE_BILLING_SETUP)
@require_http_methods(["GET", "POST"])
def provider(request: AuthenticatedHttpRequest) -> HttpResponse:
    sites = selectors.setup_sites()
    site_id = _chosen_id(request.GET.get("site"))
    site = next((s for s in sites if s.pk == site_id), sites[0] if sites else None)
    current = selectors.provider_of(site) if site is not None else None
    fields = ("name", "npi", "tax_id", "taxonomy_code", "address_line", "city", "state")
    initial: dict[str, object] = {"site": str(site.pk) if site else ""}
    if current is not None:
        initial |= {k: getattr(current, k) for k in (*fields, "postal_code", "phone")}
    form = BillingProviderForm(request.POST if request.method == "POST" else None, initial=initial)
    choose_from(form, "site", [(str(s.pk), s.name) for s in sites])

    def save(data: dict[str, Any]) -> object:  # the form's cleaned data
        chosen = next(s for s in sites if str(s.pk) == data.pop("site"))
        return services.save_billing_provider(by=request.user, site=chosen, **data)

    if saved(request, form, save, success="The site's billing details are saved."):
        return redirect("billing:setup")
    return render(request, "billing/setup_provider.html", {"form": form})


@requires(Permission.MANAGE_BILLING_SETUP)
@require_http_methods(["GET", "POST"])
def clinician_npi(request: AuthenticatedHttpRequest) -> HttpResponse:
    clinicians = selectors.rendering_clinicians()
    chosen_id = _chosen_id(request.GET.get("clinician"))
    chosen = next(((s, n) for s, n in clinicians if s.pk == chosen_id), None)
    initial = {"clinician": str(chosen[0].pk), "npi": chosen[1]} if chosen else {}
    form = ClinicianNumberForm(request.POST if request.method == "POST" else None, initial=initial)
    choose_from(
        form,
        "clinician",
        [("", "Choose a clinician")]
        + [(str(s.pk), f"{s.display_name} ({s.get_role_display()})") for s, _ in clinicians],
    )

    def save(data: dict[str, object]) -> object:
        staff = next(s for s, _ in clinicians if str(s.pk) == data["clinician"])
        return services.save_clinician_number(by=request.user, staff=staff, npi=str(data["npi"]))

    if saved(request, form, save, success="The clinician's NPI is saved."):
        return redirect("billing:setup")
    return render(request, "billing/setup_clinician.html", {"form": form})


def _day(text: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None


@requires(Permission.MANAGE_BILLING_SETUP)
@require_http_methods(["GET", "POST"])
def fee_version(request: AuthenticatedHttpRequest) -> HttpResponse:
    sites = selectors.setup_sites()
    payers = selectors.setup_payers()
    post = request.POST if request.method == "POST" else None
    query = request.GET
    day = _day((post or query).get("effective_from")) or timezone.localdate()
    site = next((s for s in sites if str(s.pk) == query.get("site")), sites[0] if sites else None)
    payer = next((p for p in payers if str(p.pk) == query.get("payer")), None)
    codes = DEFAULT_CODE_TABLE.in_force(day, kinds=_PRICED_KINDS)
    initial: dict[str, object] = {
        "site": str(site.pk) if site else "",
        "payer": str(payer.pk) if payer else "",
        "effective_from": day,
    }
    if site is not None:
        latest = selectors.latest_prices(site, payer)
        initial |= {f"price_{c}": documents.dollars(cents)[1:] for c, cents in latest.items()}
    form = FeeScheduleVersionForm(post, initial=initial, codes=codes)
    choose_from(form, "site", [(str(s.pk), s.name) for s in sites])
    choose_from(form, "payer", [("", "Self-pay"), *[(str(p.pk), p.name) for p in payers]])

    def save(data: dict[str, Any]) -> object:  # the form's cleaned data
        return services.save_fee_schedule_version(
            by=request.user,
            site=next(s for s in sites if str(s.pk) == data["site"]),
            payer=next((p for p in payers if str(p.pk) == data["payer"]), None),
            effective_from=data["effective_from"],
            prices=data["prices"],
        )

    if saved(request, form, save, success="New fee schedule version saved."):
        return redirect("billing:setup")
    return render(request, "billing/setup_fees.html", {"form": form, "day": day})
