"""The research export page: request an export, watch its progress, download it once."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from kapstone.clinical.access import Permission
from kapstone.errors import InputError
from kapstone.interop.deidentify import DEFAULT_POLICY
from kapstone.research import selectors, services
from kapstone.research.forms import ExportForm
from kapstone.web.authz import requires
from kapstone.web.forms import show_service_errors
from kapstone.web.http import AuthenticatedHttpRequest


def _form(data: QueryDict | None = None) -> ExportForm:
    return ExportForm(
        data,
        sites=selectors.site_choices(),
        programs=selectors.program_choices(),
    )


def _asked(form: ExportForm) -> services.ExportRequest:
    data = form.cleaned_data
    return services.ExportRequest(
        period_start=data["period_start"],
        period_end=data["period_end"],
        site_ids=data["site_ids"],
        programs=data["programs"],
        suppress=data["suppress"],
    )


@requires(Permission.RUN_RESEARCH_EXPORT)
@require_http_methods(["GET", "POST"])
def exports(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    form = _form(request.POST or None)
    preview = None
    if request.method == "POST" and form.is_valid() and request.POST.get("action") == "preview":
        try:
            preview = services.preview_export(by=user, now=timezone.now(), **_asked(form))
        except InputError as exc:
            show_service_errors(exc, form)
    elif request.method == "POST" and form.is_valid():
        try:
            services.request_export(by=user, now=timezone.now(), **_asked(form))
        except InputError as exc:
            show_service_errors(exc, form)
        else:
            messages.success(request, "Export requested; it is built in the background.")
            return redirect("research:exports")
    return render(
        request,
        "research/exports.html",
        {
            "form": form,
            "preview": preview,
            "exports": selectors.recent_exports_for(user),
            "policy": DEFAULT_POLICY,
            "now": timezone.now(),
        },
    )


@requires(Permission.RUN_RESEARCH_EXPORT)
def export_status(request: AuthenticatedHttpRequest, export_id: int) -> HttpResponse:
    """One export's row: the page polls it (htmx) until the export is finished."""
    export = selectors.export_for_or_404(request.user, export_id)
    return render(request, "research/_export_row.html", {"e": export, "now": timezone.now()})


@requires(Permission.RUN_RESEARCH_EXPORT)
@require_POST
def download(request: AuthenticatedHttpRequest, export_id: int) -> HttpResponseBase:
    export = selectors.export_for_or_404(request.user, export_id)
    try:
        path = services.take_download(by=request.user, export=export, now=timezone.now())
    except InputError as exc:
        for problems in exc.errors.values():
            for problem in problems:
                messages.error(request, problem)
        return redirect("research:exports")
    handle = path.open("rb")
    # Downloadable once: the name is removed now; the open handle still streams the bytes.
    services.discard_file(path)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=export.file_name,
        content_type="application/zip",
    )
