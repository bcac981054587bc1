"""The account's arithmetic is the core's (kapstone.clinical.billing.account): the stored entries
as the core's ledger, how each moves the balance, the totals and the balance identity."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kapstone.billing.models import AccountEntry
from kapstone.clinical.billing import account as core


def as_core(entry: AccountEntry) -> core.AccountEntry:
    return core.AccountEntry(
        entry_id=str(entry.pk),
        kind=core.EntryKind(entry.kind),
        amount_cents=entry.cents,
        posted_on=entry.effective_on,
        reverses=str(entry.reverses_id) if entry.reverses_id else None,
        applies_to=str(entry.charge_id) if entry.charge_id else None,
        payer=str(entry.payer_id) if entry.payer_id else "patient",
        memo=entry.memo,
    )


def core_ledger(entries: Sequence[AccountEntry]) -> core.AccountLedger:
    """The account's entries in posting order (the order they were written)."""
    return core.AccountLedger(tuple(as_core(e) for e in sorted(entries, key=lambda e: e.pk)))


@dataclass(frozen=True)
class Totals:
    charged: int  # charges less reversed charges
    paid: int  # payments less refunds, each less its reversals
    adjusted: int
    balance: int
    identity_holds: bool


def moves(entries: Sequence[AccountEntry]) -> list[int]:
    """Each entry's signed effect on the balance, in cents, in the order given."""
    ledger = core_ledger(entries)
    return [core.signed_cents(as_core(entry), ledger) for entry in entries]


def totals(entries: Sequence[AccountEntry]) -> Totals:
    identity = core.BalanceIdentity.of(core_ledger(entries))
    return Totals(
        charged=identity.charges - identity.reversed_charges,
        paid=(identity.payments - identity.reversed_payments)
        - (identity.refunds - identity.reversed_refunds),
        adjusted=identity.adjustments - identity.reversed_adjustments,
        balance=identity.balance,
        identity_holds=identity.holds(),
    )
