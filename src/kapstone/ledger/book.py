"""Between the database and the core: entries as the core sees them, and the one way to append.

Every write goes through :class:`Appender` inside the service's transaction. It locks the chain's
head row first (which serialises ledger writers across processes, as the audit trail does), then the
balance rows it needs (``select_for_update``), builds the core's :class:`LedgerBook` for just those
accounts and entries, and lets :func:`kapstone.clinical.ledger.apply` accept or refuse each new
entry. Accepted entries are written hash-chained, and the two derived tables follow the core's new
book; their CHECK constraints refuse anything the core somehow let through.

Core ids are the database's: entries by ``seq``, locations, lots, staff and patients by primary key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Max, QuerySet

from kapstone.clinical.ledger import (
    DrawStatus,
    LedgerBook,
    LedgerProblem,
    LedgerRefused,
    ProblemCode,
    StockAccount,
    apply,
    replay,
)
from kapstone.clinical.ledger_entries import (
    Administered,
    CountAdjustment,
    Destruction,
    DestructionReason,
    Draw,
    EntryKind,
    LotInfo,
    Receipt,
    ReturnToStock,
    Reversal,
    StockKey,
    StockUnit,
    Substance,
    TransferIn,
    TransferOut,
    Waste,
)
from kapstone.clinical.ledger_entries import LedgerEntry as CoreEntry
from kapstone.errors import InputError
from kapstone.ledger.hashing import entry_hash
from kapstone.ledger.models import (
    GENESIS_HASH,
    DrawAccount,
    LedgerEntry,
    LedgerHead,
    Lot,
    ReceiptDetail,
    StockBalance,
    StorageLocation,
)
from kapstone.ledger.units import show

if TYPE_CHECKING:
    from kapstone.ledger.models import Product


def stock_key(location_id: int, lot_id: int) -> StockKey:
    return StockKey(str(location_id), str(lot_id))


def lot_info(lot: Lot) -> LotInfo:
    product = lot.product
    return LotInfo(
        str(lot.pk),
        str(product.pk),
        Substance(product.substance),
        StockUnit(product.unit),
        lot.expires_on,
    )


def _opt(pk: int | None) -> str | None:
    return None if pk is None else str(pk)


def to_core(row: LedgerEntry, receipt: ReceiptDetail | None = None) -> CoreEntry:
    """The core's view of one row (a receipt needs its details)."""
    eid, at, actor = str(row.seq), row.at, str(row.actor_id)
    stock = stock_key(row.location_id, row.lot_id)
    q = row.quantity
    match EntryKind(row.kind):
        case EntryKind.RECEIPT:
            detail = receipt if receipt is not None else row.receipt_detail
            return Receipt(
                eid,
                at,
                actor,
                stock.location,
                lot_info(row.lot),
                q,
                detail.supplier,
                detail.reference,
                witness=_opt(row.witness_id) or "",
                patient_id=_opt(row.patient_id),
            )
        case EntryKind.DRAW:
            return Draw(
                eid,
                at,
                actor,
                stock,
                q,
                _opt(row.dosing_session_id) or "",
                _opt(row.patient_id) or "",
            )
        case EntryKind.ADMINISTERED:
            return Administered(eid, at, actor, stock, q, str(row.draw_id))
        case EntryKind.WASTE:
            return Waste(
                eid,
                at,
                actor,
                stock,
                q,
                _opt(row.witness_id) or "",
                _opt(row.draw_id),
                reason=row.reason,
            )
        case EntryKind.RETURN_TO_STOCK:
            return ReturnToStock(eid, at, actor, stock, q, str(row.draw_id), _opt(row.witness_id))
        case EntryKind.TRANSFER_OUT:
            return TransferOut(eid, at, actor, stock, q, str(row.to_location_id))
        case EntryKind.TRANSFER_IN:
            return TransferIn(eid, at, actor, stock, q, str(row.transfer_out_id))
        case EntryKind.DESTRUCTION:
            witnesses = () if row.witness_id is None else (str(row.witness_id),)
            return Destruction(
                eid,
                at,
                actor,
                stock,
                q,
                DestructionReason(row.destruction_reason),
                witnesses,
                note=row.reason,
            )
        case EntryKind.COUNT_ADJUSTMENT:
            return CountAdjustment(eid, at, actor, stock, q, row.reason)
        case EntryKind.REVERSAL:
            return Reversal(eid, at, actor, str(row.reverses_id), row.reason)


def _rows(queryset: QuerySet[LedgerEntry]) -> Iterator[LedgerEntry]:
    return (
        queryset.select_related("lot__product", "receipt_detail")
        .order_by("seq")
        .iterator(chunk_size=2000)
    )


def full_book(*, until: datetime | None = None) -> LedgerBook:
    """Every entry replayed through the core; raises LedgerRefused if the stored history breaks a
    rule. With ``until``, the book as it stood once the last entry dated then or earlier was
    written: a prefix of the chain, which always replays (entries written a moment apart can carry
    times a moment out of order, so cutting by time alone could drop a receipt a draw relied on)."""
    rows = LedgerEntry.objects.all()
    if until is not None:
        last = LedgerEntry.objects.filter(at__lte=until).aggregate(last=Max("seq"))["last"]
        rows = rows.filter(seq__lte=last or 0)
    return replay(to_core(row) for row in _rows(rows))


def _lock_head() -> LedgerHead:
    head = LedgerHead.objects.select_for_update().filter(pk=1).first()
    if head is not None:
        return head
    last = LedgerEntry.objects.order_by("-seq").first()
    try:
        with transaction.atomic():
            LedgerHead.objects.create(
                pk=1,
                last_seq=last.seq if last else 0,
                last_hash=last.hash if last else GENESIS_HASH,
            )
    except IntegrityError:
        pass  # another writer created it first; lock theirs
    return LedgerHead.objects.select_for_update().get(pk=1)


@dataclass
class _Stock:
    location: StorageLocation
    lot: Lot


ENTRY_ID = re.compile(r"'(\d+)'")

# Which form field each of the core's fields belongs to ('' for the form as a whole).
_FIELD = {
    "quantity": "quantity",
    "delta": "quantity",
    "witness": "witness",
    "stock": "lot",
    "lot": "lot",
    "lot.lot": "lot",
    "lot.product": "lot",
    "reason": "reason",
    "supplier": "supplier",
    "reference": "reference",
    "location": "location",
    "to_location": "to_location",
    "patient_id": "patient",
    "administration_id": "session",
}


class Appender:
    """Appends entries to the ledger; use inside ``transaction.atomic()`` and nowhere else."""

    def __init__(self) -> None:
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("ledger entries are appended inside a transaction")
        self.head = _lock_head()
        self.book = LedgerBook()
        self.stocks: dict[StockKey, _Stock] = {}
        self.balances: dict[StockKey, StockBalance] = {}
        self.accounts: dict[str, DrawAccount] = {}
        self.written: list[LedgerEntry] = []

    # -- loading the state an entry is checked against ---------------------------------------

    def load(
        self,
        *,
        stocks: Iterable[tuple[StorageLocation, Lot]] = (),
        entries: Iterable[LedgerEntry] = (),
    ) -> LedgerBook:
        """Locks and loads these accounts and entries (with the draws and dispatches they name)."""
        rows: dict[int, LedgerEntry] = {}
        pending = list(entries)
        while pending:
            row = pending.pop()
            if row.seq in rows:
                continue
            rows[row.seq] = row
            for link in (row.draw_id, row.transfer_out_id):
                if link is not None and link not in rows:
                    pending.append(LedgerEntry.objects.select_related("lot__product").get(seq=link))
        wanted = {stock_key(loc.pk, lot.pk): _Stock(loc, lot) for loc, lot in stocks}
        for row in rows.values():
            wanted.setdefault(stock_key(row.location_id, row.lot_id), _Stock(row.location, row.lot))
        # Lock balance rows in one order everywhere; the head lock already serialises writers.
        accounts = dict(self.book.accounts)
        for key in sorted(wanted, key=lambda k: (int(k.location), int(k.lot))):
            self.stocks[key] = wanted[key]
            balance = (
                StockBalance.objects.select_for_update()
                .filter(location_id=int(key.location), lot_id=int(key.lot))
                .first()
            )
            if balance is not None:
                self.balances[key] = balance
                accounts[key] = StockAccount(key, lot_info(wanted[key].lot), balance.balance)
        by_id = dict(self.book.by_id)
        draws = dict(self.book.draws)
        in_transit = dict(self.book.in_transit)
        received = dict(self.book.received_transfers)
        reversed_by = dict(self.book.reversed_by)
        for reversal in LedgerEntry.objects.filter(reverses_id__in=list(rows)):
            reversed_by[str(reversal.reverses_id)] = str(reversal.seq)
        for seq, row in sorted(rows.items()):
            core = to_core(row)
            by_id[core.entry_id] = core
            if core.entry_id in reversed_by:
                continue
            if isinstance(core, Draw):
                account = DrawAccount.objects.select_for_update().get(draw_id=seq)
                self.accounts[core.entry_id] = account
                draws[core.entry_id] = DrawStatus(
                    core, account.given, account.wasted, account.returned
                )
            elif isinstance(core, TransferOut):
                arrived = (
                    LedgerEntry.objects.filter(transfer_out_id=seq, reversed_by__isnull=True)
                    .order_by("seq")
                    .first()
                )
                if arrived is None:
                    in_transit[core.entry_id] = core
                else:
                    received[core.entry_id] = str(arrived.seq)
        self.book = LedgerBook(
            entries=tuple(by_id[k] for k in sorted(by_id, key=int)),
            accounts=accounts,
            draws=draws,
            in_transit=in_transit,
            received_transfers=received,
            reversed_by=reversed_by,
            by_id=by_id,
        )
        return self.book

    # -- appending ------------------------------------------------------------------------------

    def append(self, row: LedgerEntry, receipt: ReceiptDetail | None = None) -> LedgerEntry:
        """Checks ``row`` (unsaved, no seq yet) with the core and writes it, or raises InputError."""
        row.seq = self.head.last_seq + 1
        core = to_core(row, receipt)
        try:
            book = apply(self.book, core)
        except LedgerRefused as refused:
            raise InputError(self._explain(row, refused.problems)) from None
        row.prev_hash = self.head.last_hash
        row.hash = entry_hash(row, receipt)
        row.save(force_insert=True)
        if receipt is not None:
            receipt.entry = row
            receipt.save(force_insert=True)
        key = stock_key(row.location_id, row.lot_id)
        self.stocks.setdefault(key, _Stock(row.location, row.lot))
        self._follow(book, row)
        self.head.last_seq = row.seq
        self.head.last_hash = row.hash
        self.head.save(update_fields=["last_seq", "last_hash"])
        self.book = book
        self.written.append(row)
        return row

    def _follow(self, book: LedgerBook, row: LedgerEntry) -> None:
        """Brings the balance and draw-account rows in line with the core's new book."""
        for key, account in book.accounts.items():
            if key in self.book.accounts and self.book.accounts[key].balance == account.balance:
                continue
            balance = self.balances.get(key)
            if balance is None:
                stock = self.stocks[key]
                balance = StockBalance(location=stock.location, lot=stock.lot)
            balance.balance = account.balance
            balance.last_seq = row.seq
            balance.save()
            self.balances[key] = balance
        for draw_id in set(self.book.draws) | set(book.draws):
            status = book.draws.get(draw_id)
            if status is not None and self.book.draws.get(draw_id) == status:
                continue
            drawn_account = self.accounts.get(draw_id)
            if drawn_account is None:
                assert status is not None
                drawn_account = DrawAccount(draw=row, drawn=status.draw.quantity)
            if status is None:  # the draw was reversed: nothing left the safe after all
                drawn_account.drawn = drawn_account.given = 0
                drawn_account.wasted = drawn_account.returned = 0
                drawn_account.reversed = True
                drawn_account.closed = True
            else:
                drawn_account.given = status.administered
                drawn_account.wasted = status.wasted
                drawn_account.returned = status.returned
                drawn_account.closed = status.is_closed
            drawn_account.save()
            self.accounts[draw_id] = drawn_account

    # -- explaining refusals in the clinic's units ----------------------------------------------

    def _explain(
        self, row: LedgerEntry, problems: tuple[LedgerProblem, ...]
    ) -> dict[str, list[str]]:
        product: Product = row.lot.product
        key = stock_key(row.location_id, row.lot_id)
        errors: dict[str, list[str]] = {}
        for problem in problems:
            field = _FIELD.get(problem.field.split("[")[0], "")
            # The core names entries by id ('12'); the clinic reads them as #12.
            text = ENTRY_ID.sub(r"#\1", problem.message)
            message = text[:1].upper() + text[1:] + "."
            if problem.code is ProblemCode.BALANCE_BELOW_ZERO:
                on_hand = self.book.balance(key)
                message = (
                    f"{row.location} holds only {show(on_hand, product)} of lot "
                    f"{row.lot.lot_number} ({product.name}); the book cannot go below zero."
                )
            elif problem.code is ProblemCode.UNKNOWN_STOCK:
                message = (
                    f"No stock of lot {row.lot.lot_number} has been received in {row.location}."
                )
            elif problem.code is ProblemCode.DRAW_HAS_ACTIVITY and row.reverses_id is not None:
                status = self.book.draws[str(row.reverses_id)]
                message = (
                    f"Draw #{row.reverses_id} has {show(status.accounted, product)} given, wasted "
                    "or returned; reverse those entries first."
                )
            elif problem.code is ProblemCode.EXCEEDS_DRAW and row.draw_id is not None:
                status = self.book.draws[str(row.draw_id)]
                message = (
                    f"{show(row.quantity, product)} is more than the "
                    f"{show(status.remaining, product)} of this draw still to account for "
                    f"({show(status.draw.quantity, product)} drawn)."
                )
            errors.setdefault(field, [])
            if message not in errors[field]:
                errors[field].append(message)
        return errors
