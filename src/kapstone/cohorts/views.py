"""The cohort dashboard, its CSV tables and program report PDF, and a patient's outcome letter."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from kapstone.clinical.access import Permission
from kapstone.cohorts import letters, presenters, selectors, services, summaries
from kapstone.cohorts.dashboard import cohort_dashboard
from kapstone.cohorts.forms import CohortFilterForm, LetterForm
from kapstone.patients.models import Patient
from kapstone.web.authz import requires
from kapstone.web.downloads import document_filename
from kapstone.web.http import AuthenticatedHttpRequest
from kapstone.web.pdf import html_to_pdf


def _dashboard(request: HttpRequest) -> dict[str, Any]:
    form = CohortFilterForm(request.GET or None)
    context: dict[str, Any] = {"form": form, "dashboard": None, "preparing": False}
    if not form.is_valid():
        return context
    query = form.query()
    as_of = summaries.refresh_for_page(instrument=str(query["instrument"]), now=timezone.now())
    if as_of is None:
        context["preparing"] = True
        return context
    dashboard = cohort_dashboard(now=as_of, refreshed=True, **query)
    label = presenters.Labeller({k: p.name for k, p in selectors.programs().items()})
    context.update(
        dashboard=dashboard,
        query=query,
        label=label,
        durability_by=form.durability_by(),
        tables=presenters.tables(dashboard, label),
        instrument_name=presenters.instrument_name(dashboard),
        definitions=presenters.definitions(dashboard),
        querystring=request.GET.urlencode(),
        filters_text=presenters.filters_text(query, label, selectors.site_names()),
    )
    return context


@requires(Permission.SEE_COHORT_DASHBOARD)
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    context = _dashboard(request)
    if context["dashboard"] is not None:
        context["charts"] = presenters.charts(
            context["dashboard"], context["label"], context["durability_by"]
        )
    return render(request, "cohorts/dashboard.html", context)


@requires(Permission.SEE_COHORT_DASHBOARD)
def table_csv(request: AuthenticatedHttpRequest, table: str) -> HttpResponse:
    context = _dashboard(request)
    if context["dashboard"] is None:
        status = 503 if context["preparing"] else 400
        return render(request, "cohorts/dashboard.html", context, status=status)
    chosen = context["tables"].get(table)
    if chosen is None:
        raise Http404("No such table")
    services.record_export(
        by=request.user,
        what=f"{table}.csv",
        query=context["query"],
        rows=len(chosen.rows),
    )
    body = presenters.as_csv(
        chosen, presenters.csv_context(context["dashboard"], context["filters_text"])
    )
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    stem = f"cohort-{table}-{context['query']['start']:%Y-%m-%d}-{context['query']['end']:%Y-%m-%d}"
    response["Content-Disposition"] = f'attachment; filename="{stem}.csv"'
    return response


@requires(Permission.SEE_COHORT_DASHBOARD)
def program_report(request: AuthenticatedHttpRequest) -> HttpResponse:
    context = _dashboard(request)
    if context["dashboard"] is None:
        status = 503 if context["preparing"] else 400
        return render(request, "cohorts/dashboard.html", context, status=status)
    context["charts"] = presenters.charts(
        context["dashboard"], context["label"], context["durability_by"]
    )
    context["generated_at"] = timezone.now()
    services.record_export(
        by=request.user,
        what="program-report.pdf",
        query=context["query"],
        rows=context["dashboard"].started,
    )
    html = render_to_string("cohorts/report_pdf.html", context, request=request)
    response = HttpResponse(html_to_pdf(html), content_type="application/pdf")
    q = context["query"]
    response["Content-Disposition"] = (
        f'attachment; filename="program-report-{q["start"]:%Y-%m-%d}-{q["end"]:%Y-%m-%d}.pdf"'
    )
    return response


@requires(Permission.PRINT_OUTCOME_LETTER, patient_kwarg="patient_id")
@require_http_methods(["GET", "POST"])
def outcome_letter(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    """The form (GET) and the letter (POST): a payer's name, address and member reference are
    posted, so they never sit in an address that browsers keep in their history and servers
    and proxies write to their access logs."""
    form = LetterForm(request.POST if request.method == "POST" else None)
    if not form.is_valid():
        return render(
            request,
            "cohorts/letter_form.html",
            {"patient": patient, "form": form, "tab": "outcomes"},
            status=400 if form.is_bound else 200,
        )
    now = timezone.now()
    letter = letters.outcome_letter(
        patient=patient,
        author=request.user,
        to=form.cleaned_data["to"],
        payer_name=form.cleaned_data["payer_name"],
        payer_address=form.cleaned_data["payer_address"],
        reference=form.cleaned_data["reference"],
        now=now,
    )
    services.record_letter(by=request.user, patient=patient, letter=letter)
    html = render_to_string("cohorts/letter_pdf.html", {"letter": letter}, request=request)
    response = HttpResponse(html_to_pdf(html), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="{document_filename("outcome-letter", timezone.localdate(now), patient)}"'
    )
    return response
