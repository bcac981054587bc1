"""The ledger's pages: each translates a form into one service call and shows the result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from kapstone.accounts.models import StaffUser
from kapstone.audit.trail import record
from kapstone.clinical.access import Permission
from kapstone.clinical.ledger_entries import EntryKind
from kapstone.errors import InputError
from kapstone.ledger import reports, selectors, services
from kapstone.ledger.forms import (
    AddLocationForm,
    AddProductForm,
    CountForm,
    DestroyForm,
    DoseForm,
    DrawForm,
    ReceiveForm,
    ReportFilterForm,
    ResolveForm,
    ReverseForm,
    StockWasteForm,
    TransferForm,
)
from kapstone.ledger.models import LedgerEntry
from kapstone.ledger.units import show
from kapstone.ledger.witness import confirm_witness
from kapstone.web.actions import act_on_form, show_errors_as_messages
from kapstone.web.authz import requires
from kapstone.web.fields import strict_pk
from kapstone.web.forms import show_service_errors
from kapstone.web.found import or_404
from kapstone.web.http import AuthenticatedHttpRequest

# Service field names that a form shows under another name.
_ALIASES = {"quantity": "amount", "lot": "stock", "location": "stock", "session": "session"}


def _witness(request: AuthenticatedHttpRequest, form: forms.Form, purpose: str) -> StaffUser:
    return confirm_witness(
        request=request,
        actor=request.user,
        username=form.cleaned_data["witness"],
        secret=form.cleaned_data["witness_secret"],
        purpose=purpose,
    )


@requires(Permission.SEE_LEDGER_REPORTS)
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    now = timezone.now()
    return render(
        request,
        "ledger/dashboard.html",
        {
            "discrepancies": selectors.open_discrepancies(),
            "alerts": selectors.alerts(now),
            "open_draws": selectors.open_draws(),
            "in_transit": selectors.in_transit(),
            "on_hand": selectors.on_hand(),
            "policy": selectors.POLICY,
            "now": now,
        },
    )


@requires(Permission.MANAGE_STOCK)
@require_http_methods(["GET", "POST"])
def products(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = AddProductForm(request.POST or None)
    acted = act_on_form(
        request,
        form,
        lambda data: services.add_product(by=request.user, **data),
        done=lambda product: f"{product.name} added.",
        then="ledger:products",
        aliases=_ALIASES,
    )
    return acted or render(
        request, "ledger/products.html", {"form": form, "products": selectors.products()}
    )


@requires(Permission.MANAGE_STOCK)
@require_http_methods(["GET", "POST"])
def locations(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = AddLocationForm(request.POST or None)
    acted = act_on_form(
        request,
        form,
        lambda data: services.add_location(by=request.user, **data),
        done=lambda location: f"{location} added.",
        then="ledger:locations",
        aliases=_ALIASES,
    )
    return acted or render(
        request,
        "ledger/locations.html",
        {"form": form, "locations": selectors.locations()},
    )


@requires(Permission.MANAGE_STOCK)
@require_http_methods(["GET", "POST"])
def receive(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ReceiveForm(request.POST or None)

    def receive_stock(data: dict[str, Any]) -> LedgerEntry:
        product = data["product"]
        quantity = data["containers"] * product.per_container
        witness = _witness(
            request,
            form,
            f"receipt of {show(quantity, product)} of {product.name}, lot {data['lot_number']}",
        )
        return services.receive_stock(
            by=request.user,
            witness=witness,
            location=data["location"],
            product=product,
            lot_number=data["lot_number"],
            expires_on=data["expires_on"],
            quantity=quantity,
            supplier=data["supplier"],
            reference=data["reference"],
            patient=data["patient_mrn"],
        )

    acted = act_on_form(
        request,
        form,
        receive_stock,
        done=lambda entry: (
            f"Received {show(entry.quantity, entry.lot.product)} of lot {entry.lot.lot_number} "
            f"into {entry.location} (entry #{entry.seq})."
        ),
        then="ledger:dashboard",
        aliases=_ALIASES,
    )
    return acted or render(request, "ledger/receive.html", {"form": form})


@requires(Permission.RECORD_DOSE_STOCK)
@require_http_methods(["GET", "POST"])
def draw(request: AuthenticatedHttpRequest) -> HttpResponse:
    now = timezone.now()
    form = DrawForm(
        request.POST or None,
        sessions=selectors.sessions_to_draw_for(now),
        stock=selectors.unexpired_stock(now),
        initial={"session": request.GET.get("session")},
    )
    acted = act_on_form(
        request,
        form,
        lambda data: services.draw_for_session(
            by=request.user,
            session=data["session"],
            location=data["stock"].location,
            lot=data["stock"].lot,
            quantity=data["quantity"],
        ),
        done=_drawn,
        then=lambda entry: resolve_url("ledger:draw_detail", draw_id=entry.seq),
        aliases=_ALIASES,
    )
    return acted or render(request, "ledger/draw.html", {"form": form})


def _drawn(entry: LedgerEntry) -> str:
    assert entry.patient is not None  # a draw is always for a patient's session
    return (
        f"Drew {show(entry.quantity, entry.lot.product)} for "
        f"{entry.patient.display_name}. Chart the dose on the chair-side record; it "
        "posts what was given here. Record what is wasted or returned below."
    )


@requires(Permission.RECORD_DOSE_STOCK)
@require_http_methods(["GET", "POST"])
def draw_detail(request: AuthenticatedHttpRequest, draw_id: int) -> HttpResponse:
    the_draw = or_404(selectors.draw_of(draw_id), "No such draw on the ledger.")
    product = the_draw.lot.product
    form = DoseForm(request.POST or None, product=product)

    def record_dose(data: dict[str, Any]) -> None:
        witness = None
        if data["witness"] or data["witness_secret"]:
            witness = _witness(
                request,
                form,
                f"waste of {show(data['wasted_quantity'], product)}, return of "
                f"{show(data['returned_quantity'], product)} from draw #{the_draw.seq}",
            )
        services.record_dose(
            by=request.user,
            draw=the_draw,
            wasted=data["wasted_quantity"],
            returned=data["returned_quantity"],
            witness=witness,
        )

    acted = act_on_form(
        request,
        form,
        record_dose,
        done="Recorded on the ledger.",
        then=resolve_url("ledger:draw_detail", draw_id=the_draw.seq),
        aliases=_ALIASES,
    )
    if acted is not None:
        return acted
    if request.method == "GET":
        record(
            actor=request.user,
            action="ledger.draw_viewed",
            patient=the_draw.patient,
            obj=the_draw,
            summary=f"Draw #{the_draw.seq} viewed",
        )
    return render(
        request,
        "ledger/draw_detail.html",
        {
            "draw": the_draw,
            "account": the_draw.account,
            "entries": selectors.draw_entries(the_draw),
            "product": product,
            "form": form,
        },
    )


def _witnessed_from_stock(
    request: AuthenticatedHttpRequest,
    form: forms.Form,
    *,
    what: str,
    act: Callable[..., LedgerEntry],
    extra: tuple[str, ...],
    done: str,
    template: str,
) -> HttpResponse:
    """Stock leaving the safe other than for a dose (waste, destruction), witnessed on the form."""

    def take_from_stock(data: dict[str, Any]) -> LedgerEntry:
        balance = data["stock"]
        witness = _witness(
            request,
            form,
            f"{what} of {show(data['quantity'], balance.lot.product)} of lot "
            f"{balance.lot.lot_number}",
        )
        return act(
            by=request.user,
            witness=witness,
            location=balance.location,
            lot=balance.lot,
            quantity=data["quantity"],
            **{name: data[name] for name in extra},
        )

    acted = act_on_form(
        request, form, take_from_stock, done=done, then="ledger:dashboard", aliases=_ALIASES
    )
    return acted or render(request, template, {"form": form})


@requires(Permission.RECORD_DOSE_STOCK)
@require_http_methods(["GET", "POST"])
def stock_waste(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _witnessed_from_stock(
        request,
        StockWasteForm(request.POST or None, stock=selectors.usable_stock()),
        what="waste from stock",
        act=services.waste_from_stock,
        extra=("reason",),
        done="Waste from stock recorded.",
        template="ledger/stock_waste.html",
    )


@requires(Permission.MANAGE_STOCK)
@require_http_methods(["GET", "POST"])
def destroy(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _witnessed_from_stock(
        request,
        DestroyForm(request.POST or None, stock=selectors.usable_stock()),
        what="destruction",
        act=services.destroy_stock,
        extra=("reason", "note"),
        done="Destruction recorded.",
        template="ledger/destroy.html",
    )


@requires(Permission.MANAGE_STOCK)
@require_http_methods(["GET", "POST"])
def transfer(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = TransferForm(
        request.POST if "send" in request.POST else None, stock=selectors.usable_stock()
    )
    if request.method == "POST" and "receive" in request.POST:
        dispatch = or_404(
            selectors.dispatch_of(strict_pk(request.POST["receive"])),
            "No such transfer on the ledger.",
        )
        try:
            services.receive_transfer(by=request.user, transfer_out=dispatch)
        except InputError as exc:
            show_errors_as_messages(request, exc)
        else:
            messages.success(
                request, f"Transfer #{dispatch.seq} received at {dispatch.to_location}."
            )
        return redirect("ledger:transfer")
    acted = act_on_form(
        request,
        form,
        lambda data: services.transfer_stock(
            by=request.user,
            location=data["stock"].location,
            lot=data["stock"].lot,
            quantity=data["quantity"],
            to_location=data["to_location"],
        ),
        done="Transfer sent; receive it at the destination.",
        then="ledger:transfer",
        aliases=_ALIASES,
    )
    return acted or render(
        request, "ledger/transfer.html", {"form": form, "in_transit": selectors.in_transit()}
    )


@requires(Permission.MANAGE_STOCK)
@require_http_methods(["GET", "POST"])
def count(request: AuthenticatedHttpRequest) -> HttpResponse:
    places = selectors.active_locations()
    chosen = strict_pk(request.POST.get("location") or request.GET.get("location"))
    location = next((place for place in places if place.pk == chosen), None)
    if location is None:
        return render(request, "ledger/count_pick.html", {"locations": places})
    form = CountForm(
        request.POST or None, lots=selectors.countable_lots(location, timezone.localdate())
    )
    if request.method == "POST" and form.is_valid():
        try:
            done = services.count_stock(
                by=request.user,
                location=location,
                physical=form.cleaned_data["counted"],
            )
        except InputError as exc:
            show_service_errors(exc, form, aliases=_ALIASES)
        else:
            found = selectors.discrepancies_found(done)
            if found:
                messages.error(
                    request,
                    f"Count recorded: {found} discrepanc{'y' if found == 1 else 'ies'} opened for "
                    "the medical director.",
                )
            else:
                messages.success(request, "Count recorded: everything matches the book.")
            return redirect("ledger:count_detail", count_id=done.pk)
    return render(request, "ledger/count.html", {"form": form, "location": location})


@requires(Permission.SEE_LEDGER_REPORTS)
def count_detail(request: AuthenticatedHttpRequest, count_id: int) -> HttpResponse:
    done = or_404(selectors.stock_count_of(count_id), "No such stock count.")
    lines = selectors.count_lines(done)
    return render(request, "ledger/count_detail.html", {"count": done, "lines": lines})


@requires(Permission.RESOLVE_DISCREPANCY)
@require_http_methods(["GET", "POST"])
def resolve(request: AuthenticatedHttpRequest, discrepancy_id: int) -> HttpResponse:
    item = or_404(selectors.discrepancy_of(discrepancy_id), "No such discrepancy.")
    form = ResolveForm(request.POST or None)
    acted = act_on_form(
        request,
        form,
        lambda data: services.resolve_discrepancy(
            by=request.user,
            discrepancy=item,
            explanation=data["explanation"],
            adjust_book=data["adjust_book"],
        ),
        done="Discrepancy resolved.",
        then="ledger:dashboard",
        aliases=_ALIASES,
    )
    return acted or render(
        request,
        "ledger/resolve.html",
        {"item": item, "line": item.line, "product": item.line.lot.product, "form": form},
    )


@requires(Permission.SEE_LEDGER_REPORTS)
def entries(request: AuthenticatedHttpRequest) -> HttpResponse:
    location = selectors.location_of(strict_pk(request.GET.get("location")))
    lot = selectors.lot_of(strict_pk(request.GET.get("lot")))
    page = Paginator(selectors.entries(location=location, lot=lot), 50).get_page(
        request.GET.get("page")
    )
    record(
        actor=request.user,
        action="ledger.entries_viewed",
        summary=f"Ledger entries page {page.number}"
        + (f" for {location}" if location else "")
        + (f", lot {lot.lot_number}" if lot else ""),
    )
    query = "&".join(
        f"{k}={v.pk}" for k, v in (("location", location), ("lot", lot)) if v is not None
    )
    return render(
        request,
        "ledger/entries.html",
        {
            "page": page,
            "location": location,
            "lot": lot,
            "query": query,
            "locations": selectors.locations(),
        },
    )


@requires(Permission.MANAGE_STOCK)
@require_http_methods(["GET", "POST"])
def reverse(request: AuthenticatedHttpRequest, ledger_entry_id: int) -> HttpResponse:
    entry = or_404(selectors.entry_of(ledger_entry_id), "No such ledger entry.")
    form = ReverseForm(
        request.POST or None,
        witnessed=entry.witness_id is not None and entry.kind != EntryKind.REVERSAL,
    )

    def reverse_entry(data: dict[str, Any]) -> LedgerEntry:
        witness = None
        if form.witnessed or data["witness"]:
            witness = _witness(
                request, form, f"reversal of entry #{entry.seq} ({entry.kind_label.lower()})"
            )
        return services.reverse_entry(
            by=request.user, entry=entry, reason=data["reason"], witness=witness
        )

    acted = act_on_form(
        request,
        form,
        reverse_entry,
        done=lambda reversal: f"Entry #{entry.seq} reversed by #{reversal.seq}.",
        then="ledger:entries",
        aliases=_ALIASES,
    )
    if acted is not None:
        return acted
    reversed_by = selectors.reversal_of(entry)
    return render(
        request,
        "ledger/reverse.html",
        {
            "entry": entry,
            "form": form,
            "reversal": reversed_by,
            "reversible": entry.kind != EntryKind.REVERSAL and reversed_by is None,
        },
    )


@requires(Permission.SEE_LEDGER_REPORTS)
def report(request: AuthenticatedHttpRequest, report: str) -> HttpResponse:
    offered = reports.FILTERS[report]
    form = ReportFilterForm(request.GET or None, offered=offered)
    values: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        values = {k: form.cleaned_data.get(k) for k in offered}
    filters = reports.Filters(**values)
    result = reports.REPORTS[report](filters)
    fmt = request.GET.get("format", "html")
    if fmt not in {"html", "csv", "pdf"}:
        fmt = "html"
    record(
        actor=request.user,
        action="ledger.report_viewed" if fmt == "html" else "ledger.report_exported",
        patient=filters.patient,
        summary=f"{result.title} ({fmt}): {result.scope}, {len(result.rows)} rows",
    )
    stem = f"{report}-{timezone.localdate():%Y-%m-%d}"
    if fmt == "csv":
        response = HttpResponse(reports.as_csv(result), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{stem}.csv"'
        return response
    generated_at = timezone.now()
    context: dict[str, Any] = {"report": result, "form": form, "generated_at": generated_at}
    if fmt == "pdf":
        from kapstone.ledger.pdf import render_report_pdf

        body = render_report_pdf(
            result,
            site_name=settings.SITE_NAME,
            generated_at=timezone.localtime(generated_at),
            generated_by=request.user.display_name,
        )
        response = HttpResponse(body, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{stem}.pdf"'
        return response
    query = request.GET.copy()
    query.pop("format", None)
    context["query"] = query.urlencode()
    context["report_key"] = report
    return render(request, "ledger/report.html", context)
