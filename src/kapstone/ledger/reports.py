"""The ledger's reports as plain tables: one definition feeds the page, the CSV and the PDF.

Dispensing log (per patient, product and period), inventory on hand, biennial inventory (the book
replayed through the core up to the close of a given day), waste log (waste of doses, waste from
stock and destruction) and discrepancy log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Prefetch, Q
from django.utils import timezone

from kapstone.clinical.ledger_entries import EntryKind
from kapstone.ledger.book import full_book
from kapstone.ledger.models import (
    Discrepancy,
    DrawAccount,
    LedgerEntry,
    Lot,
    Product,
    StorageLocation,
)
from kapstone.ledger.selectors import on_hand
from kapstone.ledger.units import show
from kapstone.patients.models import Patient
from kapstone.spreadsheet import write_csv


@dataclass(frozen=True)
class Filters:
    patient: Patient | None = None
    product: Product | None = None
    location: StorageLocation | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    as_of: dt.date | None = None

    def describe(self) -> str:
        parts = []
        if self.patient is not None:
            parts.append(f"patient {self.patient.display_name} ({self.patient.mrn})")
        if self.product is not None:
            parts.append(f"product {self.product.name}")
        if self.location is not None:
            parts.append(f"location {self.location}")
        if self.start is not None:
            parts.append(f"from {self.start:%d %b %Y}")
        if self.end is not None:
            parts.append(f"to {self.end:%d %b %Y}")
        return "; ".join(parts) or "everything"


@dataclass(frozen=True)
class Report:
    key: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]] = field(default_factory=list)
    scope: str = ""
    note: str = ""
    # Closing rows with the report's totals (shown on the page and the PDF; the CSV has the rows
    # only, for a spreadsheet to sum).
    totals: list[tuple[str, ...]] = field(default_factory=list)


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def _period(prefix: str, f: Filters) -> Q:
    q = Q()
    if f.start is not None:
        q &= Q(**{f"{prefix}__gte": _local_midnight(f.start)})
    if f.end is not None:
        q &= Q(**{f"{prefix}__lt": _local_midnight(f.end + dt.timedelta(days=1))})
    return q


def _when(at: dt.datetime) -> str:
    return f"{timezone.localtime(at):%Y-%m-%d %H:%M}"


def _mg(quantity: int, product: Product) -> str:
    return f"{product.milligrams(quantity).normalize():f}"


def _who(user: object) -> str:
    return "" if user is None else str(getattr(user, "display_name", user))


def dispensing_log(f: Filters) -> Report:
    accounts = (
        DrawAccount.objects.filter(_period("draw__at", f))
        .select_related(
            "draw__patient",
            "draw__lot__product",
            "draw__location__site",
            "draw__actor",
            "draw__dosing_session",
        )
        .prefetch_related(
            Prefetch(
                "draw__draw_entries",
                queryset=LedgerEntry.objects.filter(
                    kind=EntryKind.WASTE, reversed_by__isnull=True
                ).select_related("witness"),
                to_attr="wastes",
            )
        )
        .order_by("draw__at", "draw__seq")
    )
    if f.patient is not None:
        accounts = accounts.filter(draw__patient=f.patient)
    if f.product is not None:
        accounts = accounts.filter(draw__lot__product=f.product)
    if f.location is not None:
        accounts = accounts.filter(draw__location=f.location)
    rows: list[tuple[str, ...]] = []
    # Per product (units differ): draws, drawn, given, wasted, returned; a reversed draw counts 0.
    sums: dict[int, tuple[Product, list[int]]] = {}
    for account in accounts:
        draw = account.draw
        product = draw.lot.product
        session = draw.dosing_session
        status = "reversed" if account.reversed else ("closed" if account.closed else "open")
        tally = sums.setdefault(product.pk, (product, [0, 0, 0, 0, 0]))[1]
        if not account.reversed:
            tally[0] += 1
            tally[1] += account.drawn
        tally[2] += account.given
        tally[3] += account.wasted
        tally[4] += account.returned
        rows.append(
            (
                _when(draw.at),
                draw.patient.display_name if draw.patient else "",
                draw.patient.mrn if draw.patient else "",
                _when(session.starts_at) if session else "",
                product.name,
                draw.lot.lot_number,
                str(draw.location),
                show(draw.quantity, product),
                show(account.given, product),
                show(account.wasted, product),
                show(account.returned, product),
                ", ".join(sorted({_who(w.witness) for w in draw.wastes})),  # type: ignore[attr-defined]
                _who(draw.actor),
                status,
                str(draw.seq),
            )
        )
    return Report(
        "dispensing",
        "Dispensing log",
        (
            "Drawn",
            "Patient",
            "MRN",
            "Session",
            "Product",
            "Lot",
            "Location",
            "Drawn amount",
            "Given",
            "Wasted",
            "Returned",
            "Waste witness",
            "Drawn by",
            "Status",
            "Entry",
        ),
        rows,
        f.describe(),
        totals=[
            (
                "Total",
                "",
                "",
                "",
                product.name,
                "",
                "",
                show(drawn, product),
                show(given, product),
                show(wasted, product),
                show(returned, product),
                "",
                "",
                f"{draws} draw{'' if draws == 1 else 's'}",
                "",
            )
            for product, (draws, drawn, given, wasted, returned) in sorted(
                sums.values(), key=lambda item: item[0].name
            )
        ],
    )


def _stock_rows(
    balances: list[tuple[StorageLocation, Lot, int]],
) -> list[tuple[str, ...]]:
    return [
        (
            str(location),
            lot.product.name,
            lot.product.get_substance_display(),
            lot.lot_number,
            f"{lot.expires_on:%Y-%m-%d}",
            show(balance, lot.product),
            _mg(balance, lot.product),
        )
        for location, lot, balance in balances
    ]


STOCK_COLUMNS = ("Location", "Product", "Substance", "Lot", "Expires", "On hand", "mg")


def inventory_on_hand(f: Filters) -> Report:
    balances = on_hand(f.location)
    if f.product is not None:
        balances = balances.filter(lot__product=f.product)
    rows = _stock_rows([(b.location, b.lot, b.balance) for b in balances])
    return Report(
        "inventory",
        "Inventory on hand",
        STOCK_COLUMNS,
        rows,
        f.describe(),
        note=f"As the book stands at {_when(timezone.now())}.",
    )


def biennial_inventory(f: Filters) -> Report:
    as_of = f.as_of or timezone.localdate()
    book = full_book(
        until=_local_midnight(as_of + dt.timedelta(days=1)) - dt.timedelta(microseconds=1)
    )
    stocked = [(k, a.balance) for k, a in book.accounts.items() if a.balance > 0]
    locations = StorageLocation.objects.select_related("site").in_bulk(
        {int(k.location) for k, _ in stocked}
    )
    lots = Lot.objects.select_related("product").in_bulk({int(k.lot) for k, _ in stocked})
    balances = sorted(
        ((locations[int(k.location)], lots[int(k.lot)], balance) for k, balance in stocked),
        key=lambda item: (str(item[0]), item[1].expires_on, item[1].lot_number),
    )
    if f.location is not None:
        balances = [b for b in balances if b[0].pk == f.location.pk]
    if f.product is not None:
        balances = [b for b in balances if b[1].product_id == f.product.pk]
    return Report(
        "biennial",
        f"Biennial inventory as of close of business {as_of:%d %B %Y}",
        STOCK_COLUMNS,
        _stock_rows(balances),
        f.describe(),
        note=(
            "Book quantities replayed from the ledger up to the end of that day. A physical "
            "count taken for the inventory is recorded as a count; its discrepancies are in the "
            "discrepancy log."
        ),
    )


def waste_log(f: Filters) -> Report:
    rows_q = (
        LedgerEntry.objects.filter(kind__in=[EntryKind.WASTE, EntryKind.DESTRUCTION])
        .filter(_period("at", f))
        .select_related(
            "lot__product", "location__site", "actor", "witness", "patient", "reversed_by"
        )
        .order_by("at", "seq")
    )
    if f.patient is not None:
        rows_q = rows_q.filter(patient=f.patient)
    if f.product is not None:
        rows_q = rows_q.filter(lot__product=f.product)
    if f.location is not None:
        rows_q = rows_q.filter(location=f.location)
    rows: list[tuple[str, ...]] = []
    for e in rows_q:
        if e.kind == EntryKind.DESTRUCTION:
            what = f"destruction ({e.destruction_reason.replace('_', ' ')})"
        elif e.draw_id is not None:
            what = f"waste of draw #{e.draw_id}"
        else:
            what = "waste from stock"
        reversal = getattr(e, "reversed_by", None)
        rows.append(
            (
                _when(e.at),
                what,
                e.patient.display_name if e.patient else "",
                e.lot.product.name,
                e.lot.lot_number,
                str(e.location),
                show(e.quantity, e.lot.product),
                e.reason,
                _who(e.actor),
                _who(e.witness),
                f"reversed by #{reversal.seq}: {reversal.reason}" if reversal else "",
                str(e.seq),
            )
        )
    return Report(
        "waste",
        "Waste and destruction log",
        (
            "When",
            "What",
            "Patient",
            "Product",
            "Lot",
            "Location",
            "Amount",
            "Reason",
            "By",
            "Witness",
            "Reversed",
            "Entry",
        ),
        rows,
        f.describe(),
    )


def discrepancy_log(f: Filters) -> Report:
    found = (
        Discrepancy.objects.filter(_period("opened_at", f))
        .select_related(
            "line__count__location__site",
            "line__count__counted_by",
            "line__lot__product",
            "resolution__resolved_by",
            "resolution__adjustment",
        )
        .order_by("opened_at", "pk")
    )
    if f.location is not None:
        found = found.filter(line__count__location=f.location)
    if f.product is not None:
        found = found.filter(line__lot__product=f.product)
    rows: list[tuple[str, ...]] = []
    for d in found:
        line = d.line
        product = line.lot.product
        resolution = getattr(d, "resolution", None)
        rows.append(
            (
                _when(line.count.at),
                str(line.count.location),
                product.name,
                line.lot.lot_number,
                show(line.book, product),
                show(line.physical, product),
                show(line.difference, product),
                _who(line.count.counted_by),
                "resolved" if resolution else "open",
                _when(resolution.at) if resolution else "",
                _who(resolution.resolved_by) if resolution else "",
                resolution.explanation if resolution else "",
                f"#{resolution.adjustment.seq}" if resolution and resolution.adjustment else "",
            )
        )
    return Report(
        "discrepancies",
        "Discrepancy log",
        (
            "Counted",
            "Location",
            "Product",
            "Lot",
            "Book",
            "Counted amount",
            "Difference",
            "Counted by",
            "Status",
            "Resolved",
            "Resolved by",
            "Explanation",
            "Adjustment",
        ),
        rows,
        f.describe(),
    )


REPORTS: dict[str, Callable[[Filters], Report]] = {
    "dispensing": dispensing_log,
    "inventory": inventory_on_hand,
    "biennial": biennial_inventory,
    "waste": waste_log,
    "discrepancies": discrepancy_log,
}

# Which filters each report offers.
FILTERS = {
    "dispensing": ("patient", "product", "location", "start", "end"),
    "inventory": ("product", "location"),
    "biennial": ("as_of", "product", "location"),
    "waste": ("patient", "product", "location", "start", "end"),
    "discrepancies": ("product", "location", "start", "end"),
}


def as_csv(report: Report) -> str:
    return write_csv(report.columns, report.rows)
