"""The account's arithmetic, read from the core (kapstone.clinical.billing.account): how each
stored entry moves the balance, and the totals of a statement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kapstone.billing.models import AccountEntry, EntryKind

_SIGN = {
    EntryKind.CHARGE: 1,
    EntryKind.REFUND: 1,
    EntryKind.PAYMENT: -1,
    EntryKind.ADJUSTMENT: -1,
}


@dataclass(frozen=True)
class Totals:
    charged: int
    paid: int
    adjusted: int
    balance: int


def moves(entries: Sequence[AccountEntry]) -> list[int]:
    """Each entry's signed effect on the balance, in cents, in the given order."""
    kinds = {entry.pk: EntryKind(entry.kind) for entry in entries}
    out = []
    for entry in entries:
        kind = EntryKind(entry.kind)
        if kind == EntryKind.REVERSAL:
            undone = kinds.get(entry.reverses_id) if entry.reverses_id else None
            if undone is None and entry.reverses_id:
                undone = EntryKind(AccountEntry.objects.get(pk=entry.reverses_id).kind)
            out.append(-_SIGN[undone or EntryKind.CHARGE] * entry.cents)
        else:
            out.append(_SIGN[kind] * entry.cents)
    return out


def totals(entries: Sequence[AccountEntry]) -> Totals:
    charged = paid = adjusted = 0
    signed = moves(entries)
    by_pk = {entry.pk: entry for entry in entries}
    for entry, move in zip(entries, signed, strict=True):
        kind = EntryKind(entry.kind)
        if kind == EntryKind.REVERSAL:
            target = by_pk.get(entry.reverses_id) if entry.reverses_id else None
            kind = EntryKind(target.kind) if target else EntryKind.CHARGE
        if kind == EntryKind.CHARGE:
            charged += move
        elif kind in (EntryKind.PAYMENT, EntryKind.REFUND):
            paid -= move
        else:
            adjusted -= move
    return Totals(charged=charged, paid=paid, adjusted=adjusted, balance=sum(signed))
