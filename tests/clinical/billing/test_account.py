"""The account ledger: reversals undo exactly one entry once; the balance identity always holds."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapstone.clinical.billing.account import (
    AccountEntry,
    AccountLedger,
    AccountProblem,
    BalanceIdentity,
    EntryKind,
    balance_cents,
    entry_problems,
    format_cents,
    ledger_problems,
    post,
    post_all,
    statement,
)
from kapstone.clinical.problems import Refused

DAY = date(2026, 3, 2)


def entry(
    entry_id: str, kind: EntryKind, cents: int, *, reverses: str | None = None, day: date = DAY
) -> AccountEntry:
    return AccountEntry(entry_id, kind, cents, day, reverses=reverses)


def booked() -> AccountLedger:
    return post_all(
        AccountLedger(),
        [
            entry("c1", EntryKind.CHARGE, 45_000),
            entry("p1", EntryKind.PAYMENT, 20_000),
            entry("a1", EntryKind.ADJUSTMENT, 5_000),
        ],
    )


def codes(ledger: AccountLedger, new: AccountEntry) -> set[str]:
    return {p.code for p in entry_problems(ledger, new)}


def test_balance_is_charges_less_payments_and_adjustments() -> None:
    ledger = booked()
    assert balance_cents(ledger) == 20_000
    assert BalanceIdentity.of(ledger).holds()


def test_a_reversal_undoes_exactly_one_entry_once() -> None:
    ledger = post(booked(), entry("r1", EntryKind.REVERSAL, 20_000, reverses="p1"))
    assert balance_cents(ledger) == 40_000
    again = entry("r2", EntryKind.REVERSAL, 20_000, reverses="p1")
    assert AccountProblem.ALREADY_REVERSED in codes(ledger, again)


def test_a_reversal_of_a_reversal_is_refused() -> None:
    ledger = post(booked(), entry("r1", EntryKind.REVERSAL, 5_000, reverses="a1"))
    with pytest.raises(Refused) as refused:
        post(ledger, entry("r2", EntryKind.REVERSAL, 5_000, reverses="r1"))
    assert refused.value.problems[0].code == AccountProblem.REVERSAL_OF_REVERSAL


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        (entry("x", EntryKind.REVERSAL, 100, reverses="c1"), AccountProblem.AMOUNT_MISMATCH),
        (entry("x", EntryKind.REVERSAL, 100), AccountProblem.REVERSES_NOTHING),
        (entry("x", EntryKind.REVERSAL, 100, reverses="zz"), AccountProblem.UNKNOWN_TARGET),
        (entry("c1", EntryKind.CHARGE, 100), AccountProblem.DUPLICATE_ID),
        (entry("x", EntryKind.CHARGE, 0), AccountProblem.AMOUNT),
        (entry("x", EntryKind.PAYMENT, -5), AccountProblem.AMOUNT),
        (entry("x", EntryKind.PAYMENT, 100, reverses="c1"), AccountProblem.NOT_A_REVERSAL),
        (
            entry("x", EntryKind.REVERSAL, 45_000, reverses="c1", day=DAY - timedelta(days=1)),
            AccountProblem.BEFORE_TARGET,
        ),
        (entry("x", EntryKind.REFUND, 20_001), AccountProblem.REFUND_EXCEEDS_PAID),
    ],
)
def test_invalid_postings_are_refused(bad: AccountEntry, code: str) -> None:
    assert code in codes(booked(), bad)


def test_floats_are_not_money() -> None:
    bad = AccountEntry("x", EntryKind.CHARGE, 12.5, DAY)  # type: ignore[arg-type]
    assert AccountProblem.AMOUNT in codes(AccountLedger(), bad)


def test_a_refund_returns_what_was_paid() -> None:
    ledger = post(booked(), entry("f1", EntryKind.REFUND, 20_000))
    assert balance_cents(ledger) == 40_000
    assert AccountProblem.REFUND_EXCEEDS_PAID in codes(ledger, entry("f2", EntryKind.REFUND, 1))


def test_statement_opens_and_closes_on_the_running_balance() -> None:
    ledger = post_all(
        booked(),
        [
            entry("c2", EntryKind.CHARGE, 10_000, day=DAY + timedelta(days=10)),
            entry("p2", EntryKind.PAYMENT, 30_000, day=DAY + timedelta(days=20)),
        ],
    )
    month = statement(ledger, start=DAY + timedelta(days=1), end=DAY + timedelta(days=30))
    assert month.opening_cents == 20_000
    assert [cents for _, cents in month.entries] == [10_000, -30_000]
    assert month.closing_cents == 0 == balance_cents(ledger)
    with pytest.raises(Refused):
        statement(ledger, start=DAY, end=DAY - timedelta(days=1))


def test_format_cents() -> None:
    assert format_cents(123_456) == "1234.56"
    assert format_cents(-5) == "-0.05"
    assert format_cents(0) == "0.00"


def test_a_stored_ledger_is_replayed() -> None:
    good = post(booked(), entry("r1", EntryKind.REVERSAL, 45_000, reverses="c1"))
    assert ledger_problems(good) == []
    tampered = AccountLedger(
        (*good.entries, entry("r2", EntryKind.REVERSAL, 45_000, reverses="c1"))
    )
    assert [p.field for p in ledger_problems(tampered)] == ["entries.4.reverses"]


# --- hypothesis: any sequence of valid postings keeps the identity -------------------------------

KINDS = [EntryKind.CHARGE, EntryKind.PAYMENT, EntryKind.ADJUSTMENT, EntryKind.REFUND]
steps = st.lists(
    st.tuples(
        st.sampled_from([*KINDS, EntryKind.REVERSAL]),
        st.integers(min_value=-100, max_value=1_000_000),
        st.integers(min_value=0, max_value=50),  # which entry a reversal aims at
        st.integers(min_value=0, max_value=3),  # days after the previous posting
    ),
    max_size=40,
)


def _attempt(ledger: AccountLedger, step: tuple[EntryKind, int, int, int], i: int) -> AccountLedger:
    kind, cents, target, days = step
    last = ledger.entries[-1].posted_on if ledger.entries else DAY
    reverses = None
    if kind is EntryKind.REVERSAL and ledger.entries:
        aimed = ledger.entries[target % len(ledger.entries)]
        reverses, cents = aimed.entry_id, aimed.amount_cents if cents % 2 else cents
    new = AccountEntry(f"e{i}", kind, cents, last + timedelta(days=days), reverses=reverses)
    before = BalanceIdentity.of(ledger)
    try:
        after_ledger = post(ledger, new)
    except Refused:
        assert BalanceIdentity.of(ledger) == before  # a refusal changes nothing
        return ledger
    return after_ledger


@settings(max_examples=300)
@given(steps)
def test_any_sequence_of_valid_postings_keeps_the_identity(
    plan: list[tuple[EntryKind, int, int, int]],
) -> None:
    ledger = AccountLedger()
    for i, step in enumerate(plan):
        ledger = _attempt(ledger, step, i)
        identity = BalanceIdentity.of(ledger)
        assert identity.holds()
        assert all(isinstance(e.amount_cents, int) and e.amount_cents > 0 for e in ledger.entries)
    # Each reversal reverses exactly one non-reversal entry, and no entry is reversed twice.
    targets = [e.reverses for e in ledger.entries if e.kind is EntryKind.REVERSAL]
    assert len(targets) == len(set(targets))
    kinds = {e.entry_id: e.kind for e in ledger.entries}
    assert all(kinds[t] is not EntryKind.REVERSAL for t in targets if t is not None)
    assert ledger_problems(ledger) == []


@given(steps)
def test_reversing_every_entry_returns_the_balance_to_zero(
    plan: list[tuple[EntryKind, int, int, int]],
) -> None:
    ledger = AccountLedger()
    for i, step in enumerate(plan):
        if step[0] is not EntryKind.REVERSAL:
            ledger = _attempt(ledger, step, i)
    last = ledger.entries[-1].posted_on if ledger.entries else DAY
    # Undo everything, newest first.
    for n, original in enumerate(reversed(ledger.entries)):
        ledger = post(
            ledger,
            AccountEntry(
                f"r{n}", EntryKind.REVERSAL, original.amount_cents, last, reverses=original.entry_id
            ),
        )
    assert balance_cents(ledger) == 0 and BalanceIdentity.of(ledger).holds()
