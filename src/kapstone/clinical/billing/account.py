"""The patient account ledger as pure, append-only entries (§13.3).

The same discipline as the controlled-substance ledger: an entry is never changed or removed; a
mistake is undone by a reversal that names exactly one earlier entry, once. Money is integer
cents, never a float. Amounts are positive; the kind says which way they move the balance.

    balance = charges - payments - adjustments + refunds
              - reversed charges + reversed payments + reversed adjustments - reversed refunds

A positive balance is owed to the clinic; a negative one is a credit on the account.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from kapstone.clinical.problems import Problem, Refused
from kapstone.clinical.provenance import Evidence, Source, Verification

ACCOUNT_SOURCE = Source(
    "§13.3",
    Verification.VERIFIED,
    Evidence.CLINIC_POLICY,
    "double-entry style: reverse, never edit",
)


class EntryKind(StrEnum):
    CHARGE = "charge"
    PAYMENT = "payment"
    ADJUSTMENT = "adjustment"
    REFUND = "refund"
    REVERSAL = "reversal"


# How each kind moves the balance (a reversal moves it against the entry it reverses).
SIGN: Mapping[EntryKind, int] = {
    EntryKind.CHARGE: 1,
    EntryKind.PAYMENT: -1,
    EntryKind.ADJUSTMENT: -1,
    EntryKind.REFUND: 1,
}


class AccountProblem(StrEnum):
    AMOUNT = "amount_not_positive_cents"
    DUPLICATE_ID = "duplicate_entry_id"
    REVERSES_NOTHING = "reversal_without_target"
    UNKNOWN_TARGET = "reversal_of_unknown_entry"
    REVERSAL_OF_REVERSAL = "reversal_of_a_reversal"
    ALREADY_REVERSED = "entry_already_reversed"
    AMOUNT_MISMATCH = "reversal_amount_differs"
    NOT_A_REVERSAL = "reverses_on_non_reversal"
    BEFORE_TARGET = "reversal_before_target"
    REFUND_EXCEEDS_PAID = "refund_exceeds_paid"


@dataclass(frozen=True, slots=True)
class AccountEntry:
    """One posting. ``amount_cents`` is positive; ``reverses`` names the entry a reversal undoes.

    ``applies_to`` optionally names the charge a payment or adjustment settles (for statements);
    ``payer`` is who paid or was charged ("patient" or a payer's key).
    """

    entry_id: str
    kind: EntryKind
    amount_cents: int
    posted_on: date
    reverses: str | None = None
    applies_to: str | None = None
    payer: str = "patient"
    memo: str = ""


@dataclass(frozen=True, slots=True)
class AccountLedger:
    """An account's entries in posting order (immutable: :func:`post` returns a new ledger)."""

    entries: tuple[AccountEntry, ...] = ()

    def by_id(self) -> dict[str, AccountEntry]:
        return {entry.entry_id: entry for entry in self.entries}

    def reversed_ids(self) -> frozenset[str]:
        return frozenset(e.reverses for e in self.entries if e.reverses is not None)


def signed_cents(entry: AccountEntry, ledger: AccountLedger) -> int:
    """How ``entry`` moves the balance of ``ledger`` (which holds its target if it is a reversal)."""
    if entry.kind is EntryKind.REVERSAL:
        target = ledger.by_id()[entry.reverses or ""]
        return -SIGN[target.kind] * entry.amount_cents
    return SIGN[entry.kind] * entry.amount_cents


def entry_problems(ledger: AccountLedger, entry: AccountEntry) -> list[Problem]:
    """Every reason ``entry`` cannot be posted to ``ledger``."""
    problems: list[Problem] = []
    if not isinstance(entry.amount_cents, int) or isinstance(entry.amount_cents, bool):
        problems.append(Problem("amount_cents", "money is whole cents", code=AccountProblem.AMOUNT))
    elif entry.amount_cents <= 0:
        problems.append(
            Problem("amount_cents", "must be more than zero", code=AccountProblem.AMOUNT)
        )
    known = ledger.by_id()
    if not entry.entry_id.strip() or entry.entry_id in known:
        problems.append(
            Problem("entry_id", "must be new and not empty", code=AccountProblem.DUPLICATE_ID)
        )
    if entry.kind is EntryKind.REVERSAL:
        problems.extend(_reversal_problems(ledger, entry))
    elif entry.reverses is not None:
        problems.append(
            Problem("reverses", "only a reversal reverses", code=AccountProblem.NOT_A_REVERSAL)
        )
    if entry.kind is EntryKind.REFUND and not problems:
        paid = net_paid_cents(ledger)
        if entry.amount_cents > paid:
            problems.append(
                Problem(
                    "amount_cents",
                    f"a refund cannot return more than was paid ({paid} cents)",
                    code=AccountProblem.REFUND_EXCEEDS_PAID,
                )
            )
    return problems


def _reversal_problems(ledger: AccountLedger, entry: AccountEntry) -> list[Problem]:
    if entry.reverses is None:
        return [Problem("reverses", "names no entry", code=AccountProblem.REVERSES_NOTHING)]
    target = ledger.by_id().get(entry.reverses)
    if target is None:
        return [Problem("reverses", "no such entry", code=AccountProblem.UNKNOWN_TARGET)]
    problems: list[Problem] = []
    if target.kind is EntryKind.REVERSAL:
        problems.append(
            Problem(
                "reverses",
                "a reversal cannot be reversed: post the entry again",
                code=AccountProblem.REVERSAL_OF_REVERSAL,
            )
        )
    if target.entry_id in ledger.reversed_ids():
        problems.append(
            Problem("reverses", "was already reversed", code=AccountProblem.ALREADY_REVERSED)
        )
    if entry.amount_cents != target.amount_cents:
        problems.append(
            Problem(
                "amount_cents",
                "a reversal undoes the whole entry",
                accepts=str(target.amount_cents),
                code=AccountProblem.AMOUNT_MISMATCH,
            )
        )
    if entry.posted_on < target.posted_on:
        problems.append(
            Problem("posted_on", "before the entry it reverses", code=AccountProblem.BEFORE_TARGET)
        )
    return problems


def post(ledger: AccountLedger, entry: AccountEntry) -> AccountLedger:
    """The ledger with ``entry`` appended; refuses (``Refused``) an entry that does not fit."""
    Refused.refuse_if_any(entry_problems(ledger, entry))
    return AccountLedger((*ledger.entries, entry))


def post_all(ledger: AccountLedger, entries: Iterable[AccountEntry]) -> AccountLedger:
    for entry in entries:
        ledger = post(ledger, entry)
    return ledger


def balance_cents(ledger: AccountLedger) -> int:
    """The running sum of every entry's signed effect."""
    return sum(signed_cents(entry, ledger) for entry in ledger.entries)


def net_paid_cents(ledger: AccountLedger) -> int:
    """Payments not reversed, less refunds not reversed: what a refund may at most return."""
    identity = BalanceIdentity.of(ledger)
    return (identity.payments - identity.reversed_payments) - (
        identity.refunds - identity.reversed_refunds
    )


@dataclass(frozen=True, slots=True)
class BalanceIdentity:
    """The ledger's totals by kind; :meth:`holds` checks them against the running balance."""

    charges: int
    payments: int
    adjustments: int
    refunds: int
    reversed_charges: int
    reversed_payments: int
    reversed_adjustments: int
    reversed_refunds: int
    balance: int

    @classmethod
    def of(cls, ledger: AccountLedger) -> BalanceIdentity:
        totals = dict.fromkeys(EntryKind, 0)
        reversed_totals = dict.fromkeys(EntryKind, 0)
        known = ledger.by_id()
        for entry in ledger.entries:
            if entry.kind is EntryKind.REVERSAL:
                reversed_totals[known[entry.reverses or ""].kind] += entry.amount_cents
            else:
                totals[entry.kind] += entry.amount_cents
        return cls(
            charges=totals[EntryKind.CHARGE],
            payments=totals[EntryKind.PAYMENT],
            adjustments=totals[EntryKind.ADJUSTMENT],
            refunds=totals[EntryKind.REFUND],
            reversed_charges=reversed_totals[EntryKind.CHARGE],
            reversed_payments=reversed_totals[EntryKind.PAYMENT],
            reversed_adjustments=reversed_totals[EntryKind.ADJUSTMENT],
            reversed_refunds=reversed_totals[EntryKind.REFUND],
            balance=balance_cents(ledger),
        )

    @property
    def expected(self) -> int:
        return (
            (self.charges - self.reversed_charges)
            - (self.payments - self.reversed_payments)
            - (self.adjustments - self.reversed_adjustments)
            + (self.refunds - self.reversed_refunds)
        )

    def holds(self) -> bool:
        return self.expected == self.balance


def ledger_problems(ledger: AccountLedger) -> list[Problem]:
    """Replays a stored ledger entry by entry: every entry that could not have been posted."""
    problems: list[Problem] = []
    replayed = AccountLedger()
    for i, entry in enumerate(ledger.entries):
        found = entry_problems(replayed, entry)
        problems.extend(
            Problem(f"entries.{i}.{p.field}", p.message, p.accepts, p.code) for p in found
        )
        replayed = AccountLedger((*replayed.entries, entry))
    if not problems and not BalanceIdentity.of(ledger).holds():
        problems.append(Problem("entries", "the balance identity does not hold"))
    return problems


@dataclass(frozen=True, slots=True)
class Statement:
    """A patient statement for a period: the opening balance, the period's entries, the closing."""

    start: date
    end: date
    opening_cents: int
    entries: tuple[tuple[AccountEntry, int], ...]  # each with its signed effect
    closing_cents: int


def statement(ledger: AccountLedger, *, start: date, end: date) -> Statement:
    """Entries posted from ``start`` to ``end`` (inclusive) between the balances either side."""
    if end < start:
        raise Refused([Problem("end", "before the start")])
    opening = sum(signed_cents(e, ledger) for e in ledger.entries if e.posted_on < start)
    inside = tuple(
        (e, signed_cents(e, ledger)) for e in ledger.entries if start <= e.posted_on <= end
    )
    return Statement(start, end, opening, inside, opening + sum(cents for _, cents in inside))


def format_cents(cents: int) -> str:
    """``-1250`` -> ``"-12.50"`` (dollars and cents, no float on the way)."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"
