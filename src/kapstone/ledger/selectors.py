"""Reads of the ledger: what is on hand, what is open, what needs attention."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from kapstone.clinical.ledger import (
    AlertKind,
    LedgerBook,
    LedgerPolicy,
    StockAccount,
    StockAlert,
    stock_alerts,
)
from kapstone.clinical.ledger_entries import EntryKind, Substance
from kapstone.dosing.models import DosingSession, SessionStatus
from kapstone.ledger.book import lot_info, stock_key, to_core
from kapstone.ledger.models import (
    CountLine,
    Discrepancy,
    DrawAccount,
    LedgerEntry,
    Lot,
    Product,
    StockBalance,
    StockCount,
    StorageLocation,
)
from kapstone.patients.models import Patient

# The core's alert settings (its 14-day esketamine window carries its Source); pages show these
# numbers rather than repeat them.
POLICY = LedgerPolicy()

# Sessions a nurse may be drawing for: those starting within this window of now.
DRAW_WINDOW = dt.timedelta(hours=12)


def on_hand(location: StorageLocation | None = None) -> QuerySet[StockBalance]:
    rows = StockBalance.objects.filter(balance__gt=0).select_related(
        "location__site", "lot__product"
    )
    if location is not None:
        rows = rows.filter(location=location)
    return rows.order_by("location__site__name", "location__name", "lot__expires_on", "lot__pk")


def usable_stock() -> QuerySet[StockBalance]:
    """Stock that may be drawn, wasted, moved or destroyed: on hand, in a location in use."""
    return on_hand().filter(location__is_active=True)


def unexpired_stock(now: dt.datetime) -> QuerySet[StockBalance]:
    return usable_stock().filter(lot__expires_on__gte=timezone.localdate(now))


def countable_lots(location: StorageLocation, today: dt.date) -> list[Lot]:
    """The lots a count of ``location`` asks for: those with stock on the book, and unexpired ones
    the book has at zero (a count may find what the book says is gone)."""
    rows = (
        StockBalance.objects.filter(location=location)
        .filter(Q(balance__gt=0) | Q(lot__expires_on__gte=today))
        .select_related("lot__product")
        .order_by("lot__product__name", "lot__expires_on", "lot__pk")
    )
    return [row.lot for row in rows]


def sessions_to_draw_for(now: dt.datetime) -> QuerySet[DosingSession]:
    return (
        DosingSession.objects.filter(
            status=SessionStatus.BOOKED,
            starts_at__gte=now - DRAW_WINDOW,
            starts_at__lte=now + DRAW_WINDOW,
        )
        .select_related("patient", "site")
        .order_by("starts_at", "pk")
    )


def open_discrepancies() -> QuerySet[Discrepancy]:
    return (
        Discrepancy.objects.filter(resolution__isnull=True)
        .select_related(
            "line__count__location__site", "line__count__counted_by", "line__lot__product"
        )
        .order_by("opened_at", "pk")
    )


def open_draws() -> QuerySet[DrawAccount]:
    return (
        DrawAccount.objects.filter(closed=False)
        .select_related(
            "draw__patient", "draw__lot__product", "draw__location__site", "draw__actor"
        )
        .order_by("draw__at")
    )


def in_transit() -> QuerySet[LedgerEntry]:
    """Dispatches not (or no longer) received at their destination."""
    received = LedgerEntry.objects.filter(
        kind=EntryKind.TRANSFER_IN, reversed_by__isnull=True
    ).values("transfer_out_id")
    return (
        LedgerEntry.objects.filter(kind=EntryKind.TRANSFER_OUT, reversed_by__isnull=True)
        .exclude(seq__in=received)
        .select_related("location__site", "to_location__site", "lot__product", "actor")
        .order_by("at")
    )


def entries(
    *, location: StorageLocation | None = None, lot: Lot | None = None
) -> QuerySet[LedgerEntry]:
    rows = LedgerEntry.objects.select_related(
        "location__site",
        "lot__product",
        "actor",
        "witness",
        "patient",
        "receipt_detail",
        "reversed_by",
        "to_location__site",
    ).order_by("-seq")
    if location is not None:
        rows = rows.filter(location=location)
    if lot is not None:
        rows = rows.filter(lot=lot)
    return rows


def draw_entries(draw: LedgerEntry) -> QuerySet[LedgerEntry]:
    return (
        LedgerEntry.objects.filter(draw=draw)
        .select_related("actor", "witness", "reversed_by")
        .order_by("seq")
    )


@dataclass(frozen=True)
class AlertRow:
    alert: StockAlert
    location: StorageLocation
    lot: Lot
    patient: Patient | None

    @property
    def is_deadline(self) -> bool:
        return self.alert.kind in {
            AlertKind.ADMINISTRATION_DEADLINE_NEAR,
            AlertKind.ADMINISTRATION_DEADLINE_PASSED,
        }

    @property
    def is_past(self) -> bool:
        return self.alert.days_left < 0

    @property
    def days_overdue(self) -> int:
        return -self.alert.days_left


def alerts_book() -> LedgerBook:
    """Just what the core's ``stock_alerts`` reads, loaded without replaying the whole ledger:
    the accounts with stock, and for esketamine on hand its receipts, draws and returns (with
    which of them were reversed). The replay test checks it gives the alerts a full replay gives."""
    balances = list(StockBalance.objects.filter(balance__gt=0).select_related("lot__product"))
    accounts = {
        stock_key(b.location_id, b.lot_id): StockAccount(
            stock_key(b.location_id, b.lot_id), lot_info(b.lot), b.balance
        )
        for b in balances
    }
    esketamine = Q(pk__in=[])
    for b in balances:
        if b.lot.product.substance == Substance.ESKETAMINE:
            esketamine |= Q(location_id=b.location_id, lot_id=b.lot_id)
    rows = list(
        LedgerEntry.objects.filter(esketamine)
        .filter(kind__in=[EntryKind.RECEIPT, EntryKind.DRAW, EntryKind.RETURN_TO_STOCK])
        .select_related("lot__product", "receipt_detail")
        .order_by("seq")
    )
    reversed_by = {
        str(r.reverses_id): str(r.seq)
        for r in LedgerEntry.objects.filter(reverses_id__in=[row.seq for row in rows])
    }
    entries = tuple(to_core(row) for row in rows)
    return LedgerBook(
        entries=entries,
        accounts=accounts,
        reversed_by=reversed_by,
        by_id={e.entry_id: e for e in entries},
    )


def alerts(now: dt.datetime) -> list[AlertRow]:
    """Esketamine to give before its deadline, and lots expired or about to expire."""
    found = stock_alerts(
        alerts_book(),
        as_of=timezone.localdate(now),
        zone=timezone.get_current_timezone(),
        policy=POLICY,
    )
    if not found:
        return []
    locations = StorageLocation.objects.select_related("site").in_bulk(
        {int(a.stock.location) for a in found}
    )
    lots = Lot.objects.select_related("product").in_bulk({int(a.stock.lot) for a in found})
    patients = Patient.objects.in_bulk({int(a.patient_id) for a in found if a.patient_id})
    return [
        AlertRow(
            a,
            locations[int(a.stock.location)],
            lots[int(a.stock.lot)],
            patients.get(int(a.patient_id)) if a.patient_id else None,
        )
        for a in found
    ]


# --- what the pages look up by id -------------------------------------------------------------


def products() -> list[Product]:
    return list(Product.objects.all())


def locations() -> list[StorageLocation]:
    return list(StorageLocation.objects.select_related("site"))


def active_locations() -> list[StorageLocation]:
    return list(StorageLocation.objects.filter(is_active=True).select_related("site"))


def location_of(location_id: int | None) -> StorageLocation | None:
    if location_id is None:
        return None
    return StorageLocation.objects.select_related("site").filter(pk=location_id).first()


def lot_of(lot_id: int | None) -> Lot | None:
    return Lot.objects.filter(pk=lot_id).first() if lot_id is not None else None


def entry_of(seq: int) -> LedgerEntry | None:
    """Ledger entry ``seq`` with what its reversal page shows."""
    return (
        LedgerEntry.objects.select_related("lot__product", "location__site", "actor", "patient")
        .filter(seq=seq)
        .first()
    )


def draw_of(seq: int) -> LedgerEntry | None:
    """The draw ``seq`` with its account of where the drug went; None for any other entry."""
    return (
        LedgerEntry.objects.select_related(
            "patient", "dosing_session", "lot__product", "location__site", "actor", "account"
        )
        .filter(seq=seq, kind=EntryKind.DRAW)
        .first()
    )


def dispatch_of(seq: int | None) -> LedgerEntry | None:
    """The transfer sent as entry ``seq``; None for any other entry."""
    if seq is None:
        return None
    return (
        LedgerEntry.objects.select_related("lot__product", "to_location__site")
        .filter(seq=seq, kind=EntryKind.TRANSFER_OUT)
        .first()
    )


def stock_count_of(count_id: int) -> StockCount | None:
    return (
        StockCount.objects.select_related("location__site", "counted_by")
        .filter(pk=count_id)
        .first()
    )


def count_lines(count: StockCount) -> list[CountLine]:
    return list(
        count.lines.select_related("lot__product", "discrepancy__resolution__resolved_by").order_by(
            "lot__product__name", "lot__pk"
        )
    )


def discrepancies_found(count: StockCount) -> int:
    """How many lines of this count did not match the book."""
    return Discrepancy.objects.filter(line__count=count).count()


def discrepancy_of(discrepancy_id: int) -> Discrepancy | None:
    return (
        Discrepancy.objects.select_related(
            "line__count__location__site", "line__count__counted_by", "line__lot__product"
        )
        .filter(pk=discrepancy_id)
        .first()
    )


def reversal_of(entry: LedgerEntry) -> LedgerEntry | None:
    """The entry that reversed ``entry``, if one did."""
    return LedgerEntry.objects.filter(reverses=entry).first()
