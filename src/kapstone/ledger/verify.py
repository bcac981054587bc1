"""Checks the ledger: the hash chain row by row, then every entry replayed through the core and the
balance and draw-account caches compared with what the replay says, then the medication record
against the ledger, session by session."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from kapstone.chairside.models import ChairsideRecord, DoseAdministration
from kapstone.clinical.ledger import LedgerRefused
from kapstone.clinical.ledger_entries import EntryKind
from kapstone.ledger.book import full_book, stock_key
from kapstone.ledger.hashing import entry_hash
from kapstone.ledger.models import (
    GENESIS_HASH,
    DrawAccount,
    LedgerEntry,
    LedgerHead,
    ReceiptDetail,
    StockBalance,
)


@dataclass(frozen=True)
class Finding:
    seq: int | None
    problem: str

    def describe(self) -> str:
        return (f"ledger entry #{self.seq}: " if self.seq is not None else "") + self.problem


def verify_chain() -> tuple[int, Finding | None]:
    """Rows checked, and the first broken link (None when intact)."""
    expected_prev, expected_seq, checked = GENESIS_HASH, 1, 0
    details = {d.entry_id: d for d in ReceiptDetail.objects.all()}
    for row in LedgerEntry.objects.order_by("seq").iterator(chunk_size=2000):
        if row.seq != expected_seq:
            return checked, Finding(
                expected_seq, f"missing: the chain jumps from #{expected_seq - 1} to #{row.seq}"
            )
        if row.prev_hash != expected_prev:
            return checked, Finding(row.seq, "its link to the previous entry does not match")
        if entry_hash(row, details.get(row.seq)) != row.hash:
            return checked, Finding(row.seq, "its contents were changed after it was written")
        expected_prev, expected_seq, checked = row.hash, expected_seq + 1, checked + 1
    head = LedgerHead.objects.filter(pk=1).first()
    if head is not None and head.last_seq != checked:
        return checked, Finding(
            None, f"missing: the chain should reach #{head.last_seq}, it ends at #{checked}"
        )
    return checked, None


def verify_caches() -> Finding | None:
    """Replays every entry through the core; the balance and draw tables must agree with it."""
    try:
        book = full_book()
    except LedgerRefused as refused:
        return Finding(int(refused.entry_id), f"the core refuses it on replay: {refused}")
    for balance in StockBalance.objects.all():
        expected = book.balance(stock_key(balance.location_id, balance.lot_id))
        if balance.balance != expected:
            return Finding(
                None,
                f"balance of lot {balance.lot_id} at location {balance.location_id} is "
                f"{balance.balance}, the entries say {expected}",
            )
    keys = {stock_key(b.location_id, b.lot_id) for b in StockBalance.objects.all()}
    for key, account in book.accounts.items():
        if key not in keys and account.balance != 0:
            return Finding(None, f"no balance row for lot {key.lot} at location {key.location}")
    for drawn in DrawAccount.objects.all():
        status = book.draws.get(str(drawn.draw_id))
        if status is None:
            if not drawn.reversed:
                return Finding(drawn.draw_id, "the draw was reversed but its account is open")
            continue
        if (drawn.given, drawn.wasted, drawn.returned, drawn.closed) != (
            status.administered,
            status.wasted,
            status.returned,
            status.is_closed,
        ):
            return Finding(drawn.draw_id, "its draw account disagrees with the entries")
    return None


def verify_doses() -> Finding | None:
    """One entry for each dose: for every session with a chair-side record, the milligrams the
    record says were given equal those of the ledger's 'given' entries that were not reversed.
    (A session never opened at the chair side has no medication record to compare with.)"""
    charted: dict[int, Decimal] = defaultdict(Decimal)
    for session_id, dose_mg in DoseAdministration.objects.values_list(
        "record__session_id", "dose_mg"
    ):
        charted[session_id] += dose_mg
    booked: dict[int, Decimal] = defaultdict(Decimal)
    for row in LedgerEntry.objects.filter(
        kind=EntryKind.ADMINISTERED, reversed_by__isnull=True
    ).select_related("lot__product"):
        assert row.dosing_session_id is not None
        booked[row.dosing_session_id] += row.lot.product.milligrams(row.quantity)
    opened = set(ChairsideRecord.objects.values_list("session_id", flat=True))
    for session_id in sorted(opened & (set(charted) | set(booked))):
        if charted[session_id] != booked[session_id]:
            return Finding(
                None,
                f"dosing session {session_id}: the chair-side record shows "
                f"{charted[session_id].normalize():f} mg given, the ledger "
                f"{booked[session_id].normalize():f} mg",
            )
    return None
