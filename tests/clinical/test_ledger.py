"""Worked examples of the controlled-substance ledger rules (issue 6, items 2-4)."""

from __future__ import annotations

import re
from dataclasses import fields
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from kapstone.clinical.ledger import (
    AlertKind,
    LedgerBook,
    LedgerPolicy,
    LedgerRefused,
    ProblemCode,
    apply,
    check,
    replay,
    stock_alerts,
)
from kapstone.clinical.ledger_entries import (
    Administered,
    CountAdjustment,
    Destruction,
    DestructionReason,
    Draw,
    LotInfo,
    QuantityError,
    Receipt,
    ReturnToStock,
    Reversal,
    StockKey,
    StockUnit,
    Substance,
    TransferIn,
    TransferOut,
    Waste,
    micrograms,
)
from kapstone.clinical.provenance import Evidence, Source, Verification
from tests.reference import REFERENCE

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
KETAMINE_LOT = LotInfo(
    "K123", "ketamine 500 mg/10 mL", Substance.KETAMINE, StockUnit.MICROGRAM, date(2027, 6, 30)
)
SPRAVATO_LOT = LotInfo(
    "E77", "esketamine 28 mg device", Substance.ESKETAMINE, StockUnit.DEVICE, date(2027, 1, 31)
)
SAFE_A = StockKey("site1-safe", "K123")
SAFE_B = StockKey("site2-safe", "K123")
ESK = StockKey("site1-safe", "E77")


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def receive(quantity: int = micrograms(1000), entry_id: str = "r1") -> Receipt:
    return Receipt(
        entry_id,
        at(0),
        "nurse-ann",
        "site1-safe",
        KETAMINE_LOT,
        quantity,
        "McKesson",
        "CSOS-4411",
        witness="nurse-bob",
    )


def codes(problems: tuple[object, ...]) -> set[ProblemCode]:
    return {p.code for p in problems}  # type: ignore[attr-defined]


def refused_with(book: LedgerBook, entry: object, code: ProblemCode) -> None:
    assert code in codes(check(book, entry))  # type: ignore[arg-type]
    with pytest.raises(LedgerRefused) as refused:
        apply(book, entry)  # type: ignore[arg-type]
    assert code in codes(refused.value.problems)


@pytest.fixture
def dosed() -> LedgerBook:
    """Two 500 mg vials received; 35 mg drawn for one administration; 30 mg given."""
    return replay(
        [
            receive(),
            Draw("d1", at(10), "nurse-ann", SAFE_A, micrograms(35), "adm-1", "pt-1"),
            Administered("g1", at(50), "nurse-ann", SAFE_A, micrograms(30), "d1"),
        ]
    )


def test_micrograms_are_exact_whole_units() -> None:
    assert micrograms("35") == 35_000
    assert micrograms(Decimal("0.125")) == 125
    assert micrograms(500) == 500_000
    with pytest.raises(QuantityError, match="whole number of micrograms"):
        micrograms(Decimal("0.0005"))
    with pytest.raises(QuantityError, match="float"):
        micrograms(0.1)  # type: ignore[arg-type]


def test_a_dose_with_witnessed_waste_closes_the_draw(dosed: LedgerBook) -> None:
    assert dosed.balance(SAFE_A) == 1_000_000 - 35_000
    (open_draw,) = dosed.open_draws()
    assert (open_draw.draw.entry_id, open_draw.remaining) == ("d1", 5_000)
    book = apply(dosed, Waste("w1", at(55), "nurse-ann", SAFE_A, 5_000, "nurse-bob", "d1"))
    assert book.open_draws() == ()
    status = book.draws["d1"]
    assert (status.administered, status.wasted, status.is_closed) == (30_000, 5_000, True)
    assert book.balance(SAFE_A) == 965_000  # waste of a draw does not move the safe balance
    assert dosed.balance(SAFE_A) == 965_000
    assert len(dosed.entries) == 3


def test_over_administration_is_refused_and_the_book_unchanged(dosed: LedgerBook) -> None:
    before = (dosed.entries, dict(dosed.draws), dict(dosed.accounts))
    refused_with(
        dosed,
        Administered("g2", at(60), "nurse-ann", SAFE_A, 5_001, "d1"),
        ProblemCode.EXCEEDS_DRAW,
    )
    refused_with(
        dosed,
        Waste("w1", at(60), "nurse-ann", SAFE_A, 6_000, "nurse-bob", "d1"),
        ProblemCode.EXCEEDS_DRAW,
    )
    assert (dosed.entries, dict(dosed.draws), dict(dosed.accounts)) == before


def test_waste_needs_a_witness_other_than_the_actor(dosed: LedgerBook) -> None:
    refused_with(
        dosed,
        Waste("w1", at(55), "nurse-ann", SAFE_A, 5_000, "nurse-ann", "d1"),
        ProblemCode.WITNESS_IS_ACTOR,
    )
    refused_with(
        dosed,
        Waste("w1", at(55), "nurse-ann", SAFE_A, 5_000, " ", "d1"),
        ProblemCode.WITNESS_REQUIRED,
    )


def test_entries_on_a_draw_must_match_it(dosed: LedgerBook) -> None:
    refused_with(
        dosed, Administered("g2", at(60), "nurse-ann", SAFE_A, 1, "nope"), ProblemCode.UNKNOWN_DRAW
    )
    refused_with(
        dosed, Administered("g2", at(60), "nurse-ann", ESK, 1, "d1"), ProblemCode.STOCK_MISMATCH
    )
    refused_with(
        dosed,
        Administered("g2", at(5), "nurse-ann", SAFE_A, 1, "d1"),
        ProblemCode.BEFORE_REFERENCED_ENTRY,
    )


def test_stock_waste_needs_a_reason_and_moves_the_balance(dosed: LedgerBook) -> None:
    refused_with(
        dosed, Waste("w9", at(60), "nurse-ann", SAFE_A, 1_000, "nurse-bob", None), ProblemCode.BLANK
    )
    book = apply(
        dosed,
        Waste("w9", at(60), "nurse-ann", SAFE_A, 1_000, "nurse-bob", None, reason="vial dropped"),
    )
    assert book.balance(SAFE_A) == dosed.balance(SAFE_A) - 1_000


def test_balance_never_goes_below_zero() -> None:
    book = replay([receive(quantity=10_000)])
    refused_with(
        book,
        Draw("d1", at(5), "nurse-ann", SAFE_A, 10_001, "adm-1", "pt-1"),
        ProblemCode.BALANCE_BELOW_ZERO,
    )
    refused_with(
        book,
        CountAdjustment("c1", at(5), "rn", SAFE_A, -10_001, "count short"),
        ProblemCode.BALANCE_BELOW_ZERO,
    )
    assert (
        apply(book, Draw("d1", at(5), "nurse-ann", SAFE_A, 10_000, "adm-1", "pt-1")).balance(SAFE_A)
        == 0
    )


def test_unknown_stock_bad_quantities_and_times_are_refused() -> None:
    book = replay([receive()])
    refused_with(
        book, Draw("d1", at(5), "nurse-ann", ESK, 1, "adm-1", "pt-1"), ProblemCode.UNKNOWN_STOCK
    )
    refused_with(
        book, Draw("d1", at(5), "nurse-ann", SAFE_A, 0, "adm-1", "pt-1"), ProblemCode.NOT_POSITIVE
    )
    refused_with(
        book,
        Draw("r1", at(5), "nurse-ann", SAFE_A, 1, "adm-1", "pt-1"),
        ProblemCode.DUPLICATE_ENTRY_ID,
    )
    refused_with(
        book,
        Draw("d1", datetime(2026, 3, 2, 9, 5), "nurse-ann", SAFE_A, 1, "adm-1", "pt-1"),
        ProblemCode.NAIVE_TIME,
    )
    refused_with(book, Draw("d1", at(5), "nurse-ann", SAFE_A, 1, "", "pt-1"), ProblemCode.BLANK)


def test_receipt_rules() -> None:
    refused_with(
        LedgerBook(),
        Receipt(
            "r1",
            at(0),
            "nurse-ann",
            "site1-safe",
            KETAMINE_LOT,
            1,
            "McKesson",
            "CSOS-1",
            witness="nurse-ann",
        ),
        ProblemCode.WITNESS_IS_ACTOR,
    )
    refused_with(
        LedgerBook(),
        Receipt(
            "r1",
            at(0),
            "nurse-ann",
            "site1-safe",
            KETAMINE_LOT,
            1,
            "",
            "CSOS-1",
            witness="nurse-bob",
        ),
        ProblemCode.BLANK,
    )
    book = replay([receive()])
    other_details = LotInfo(
        "K123", "ketamine 200 mg/20 mL", Substance.KETAMINE, StockUnit.MICROGRAM, date(2027, 6, 30)
    )
    refused_with(
        book,
        Receipt(
            "r2",
            at(1),
            "nurse-ann",
            "site2-safe",
            other_details,
            1,
            "McKesson",
            "CSOS-2",
            witness="nurse-bob",
        ),
        ProblemCode.LOT_DETAILS_DISAGREE,
    )


def test_transfer_between_locations_is_paired() -> None:
    book = replay([receive(), TransferOut("t1", at(5), "nurse-ann", SAFE_A, 200_000, "site2-safe")])
    assert book.balance(SAFE_A) == 800_000
    assert set(book.in_transit) == {"t1"}
    refused_with(
        book,
        TransferIn("i1", at(9), "nurse-cy", SAFE_B, 199_000, "t1"),
        ProblemCode.TRANSFER_MISMATCH,
    )
    refused_with(
        book,
        TransferIn("i1", at(9), "nurse-cy", StockKey("site3", "K123"), 200_000, "t1"),
        ProblemCode.TRANSFER_MISMATCH,
    )
    refused_with(
        book,
        TransferIn("i1", at(9), "nurse-cy", SAFE_B, 200_000, "r1"),
        ProblemCode.UNKNOWN_TRANSFER,
    )
    book = apply(book, TransferIn("i1", at(9), "nurse-cy", SAFE_B, 200_000, "t1"))
    assert (book.balance(SAFE_A), book.balance(SAFE_B)) == (800_000, 200_000)
    assert book.accounts[SAFE_B].lot == KETAMINE_LOT
    assert book.in_transit == {}
    refused_with(
        book,
        TransferIn("i2", at(9), "nurse-cy", SAFE_B, 200_000, "t1"),
        ProblemCode.TRANSFER_ALREADY_RECEIVED,
    )
    refused_with(
        book,
        Reversal("x1", at(20), "nurse-ann", "t1", "wrong safe"),
        ProblemCode.TRANSFER_ALREADY_RECEIVED,
    )
    # Undo in order: the receipt at the destination, then the dispatch.
    book = apply(book, Reversal("x1", at(20), "nurse-cy", "i1", "wrong safe"))
    assert set(book.in_transit) == {"t1"}
    book = apply(book, Reversal("x2", at(21), "nurse-ann", "t1", "wrong safe"))
    assert (book.balance(SAFE_A), book.balance(SAFE_B)) == (1_000_000, 0)
    refused_with(
        book,
        TransferOut("t2", at(5), "nurse-ann", SAFE_A, 1, "site1-safe"),
        ProblemCode.SAME_LOCATION,
    )


def test_destruction_is_witnessed_by_others() -> None:
    book = replay([receive()])

    def destroy(*witnesses: str) -> Destruction:
        return Destruction(
            "x1", at(5), "nurse-ann", SAFE_A, 1_000, DestructionReason.EXPIRED, witnesses
        )

    refused_with(book, destroy(), ProblemCode.WITNESS_REQUIRED)
    refused_with(book, destroy("nurse-ann"), ProblemCode.WITNESS_IS_ACTOR)
    refused_with(book, destroy("nurse-bob", "nurse-bob"), ProblemCode.DUPLICATE_WITNESS)
    assert apply(book, destroy("nurse-bob", "dr-dee")).balance(SAFE_A) == 999_000


def test_count_adjustment_needs_a_reason_and_a_change() -> None:
    book = replay([receive()])
    refused_with(
        book, CountAdjustment("c1", at(5), "rn", SAFE_A, 0, "nothing"), ProblemCode.ZERO_ADJUSTMENT
    )
    refused_with(book, CountAdjustment("c1", at(5), "rn", SAFE_A, -3, " "), ProblemCode.BLANK)
    assert (
        apply(book, CountAdjustment("c1", at(5), "rn", SAFE_A, -3, "meniscus")).balance(SAFE_A)
        == 999_997
    )


def test_reversal_rules(dosed: LedgerBook) -> None:
    refused_with(
        dosed, Reversal("x1", at(60), "nurse-ann", "nope", "typo"), ProblemCode.UNKNOWN_ENTRY
    )
    refused_with(
        dosed, Reversal("x1", at(60), "nurse-ann", "d1", "typo"), ProblemCode.DRAW_HAS_ACTIVITY
    )
    refused_with(dosed, Reversal("x1", at(60), "nurse-ann", "g1", ""), ProblemCode.BLANK)
    book = apply(dosed, Reversal("x1", at(60), "nurse-ann", "g1", "wrong amount"))
    assert book.draws["d1"].remaining == 35_000
    assert book.reversed_by == {"g1": "x1"}
    refused_with(
        book, Reversal("x2", at(61), "nurse-ann", "g1", "again"), ProblemCode.ALREADY_REVERSED
    )
    refused_with(
        book, Reversal("x2", at(61), "nurse-ann", "x1", "undo"), ProblemCode.REVERSAL_OF_REVERSAL
    )
    book = apply(book, Reversal("x2", at(61), "nurse-ann", "d1", "dose cancelled"))
    assert book.balance(SAFE_A) == 1_000_000
    assert "d1" not in book.draws
    refused_with(
        book, Administered("g9", at(62), "nurse-ann", SAFE_A, 1, "d1"), ProblemCode.DRAW_REVERSED
    )


def test_reversing_a_receipt_cannot_strand_drawn_stock(dosed: LedgerBook) -> None:
    refused_with(
        dosed,
        Reversal("x1", at(60), "nurse-ann", "r1", "wrong lot"),
        ProblemCode.BALANCE_BELOW_ZERO,
    )


def esketamine_receipt(entry_id: str, when: datetime, patient: str, devices: int) -> Receipt:
    return Receipt(
        entry_id,
        when,
        "nurse-ann",
        "site1-safe",
        SPRAVATO_LOT,
        devices,
        "Specialty Rx",
        f"order-{entry_id}",
        witness="nurse-bob",
        patient_id=patient,
    )


def test_unused_devices_return_to_stock_and_close_the_draw() -> None:
    book = replay(
        [
            esketamine_receipt("r1", at(0), "pt-1", 3),
            Draw("d1", at(5), "nurse-ann", ESK, 3, "adm-1", "pt-1"),
            Administered("g1", at(10), "nurse-ann", ESK, 2, "d1"),
            ReturnToStock("b1", at(40), "nurse-ann", ESK, 1, "d1", witness="nurse-bob"),
        ]
    )
    assert book.draws["d1"].is_closed
    assert book.balance(ESK) == 1


EASTERN = timezone(timedelta(hours=-5))


def test_esketamine_administration_deadline_counts_days_from_local_receipt_date() -> None:
    # 23:30 local on 1 March is already 2 March in UTC; the deadline counts from the local date.
    received = datetime(2026, 3, 1, 23, 30, tzinfo=EASTERN).astimezone(UTC)
    book = replay([esketamine_receipt("r1", received, "pt-1", 3)])

    def alerts(day: int) -> list[tuple[AlertKind, int, int]]:
        found = stock_alerts(book, as_of=date(2026, 3, day), zone=EASTERN)
        return [(a.kind, a.quantity, a.days_left) for a in found if a.receipt_id == "r1"]

    assert alerts(11) == []
    assert alerts(12) == [(AlertKind.ADMINISTRATION_DEADLINE_NEAR, 3, 3)]
    assert alerts(15) == [(AlertKind.ADMINISTRATION_DEADLINE_NEAR, 3, 0)]
    assert alerts(16) == [(AlertKind.ADMINISTRATION_DEADLINE_PASSED, 3, -1)]
    (alert,) = stock_alerts(book, as_of=date(2026, 3, 16), zone=EASTERN)
    assert alert.due_on == date(2026, 3, 15)
    assert alert.patient_id == "pt-1"
    assert alert.policy_version == "default-2026-11"
    assert alert.source is not None
    assert alert.source.key == "§11.1"
    assert alert.source.verification is Verification.SECONDARY


def test_deadline_follows_what_is_left_for_each_patient() -> None:
    book = replay(
        [
            esketamine_receipt("r1", at(0), "pt-1", 3),
            esketamine_receipt("r2", at(1), "pt-2", 3),
            Draw("d1", at(5), "nurse-ann", ESK, 3, "adm-1", "pt-1"),
        ]
    )
    found = stock_alerts(book, as_of=date(2026, 3, 20), zone=UTC)
    assert [(a.patient_id, a.quantity) for a in found] == [("pt-2", 3)]
    policy = LedgerPolicy(
        version="site-2027", esketamine_administration_days=7, esketamine_warning_days=0
    )
    found = stock_alerts(book, as_of=date(2026, 3, 9), zone=UTC, policy=policy)
    assert [(a.kind, a.days_left, a.policy_version) for a in found] == [
        (AlertKind.ADMINISTRATION_DEADLINE_NEAR, 0, "site-2027")
    ]


def test_lot_expiry_alerts() -> None:
    book = replay([receive()])
    assert stock_alerts(book, as_of=date(2027, 5, 30), zone=UTC) == ()
    (soon,) = stock_alerts(book, as_of=date(2027, 6, 1), zone=UTC)
    assert (soon.kind, soon.days_left, soon.quantity) == (AlertKind.LOT_EXPIRING, 29, 1_000_000)
    (gone,) = stock_alerts(book, as_of=date(2027, 7, 1), zone=UTC)
    assert (gone.kind, gone.days_left) == (AlertKind.LOT_EXPIRED, -1)
    emptied = apply(
        book,
        Destruction(
            "x1", at(9), "nurse-ann", SAFE_A, 1_000_000, DestructionReason.EXPIRED, ("nurse-bob",)
        ),
    )
    assert stock_alerts(emptied, as_of=date(2027, 7, 1), zone=UTC) == ()


def test_policy_sources_are_in_the_reference_and_unverified_ones_are_clinic_policy() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    sections = set(re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", text, flags=re.MULTILINE))
    policy = LedgerPolicy()
    sources = [
        v for v in (getattr(policy, f.name) for f in fields(policy)) if isinstance(v, Source)
    ]
    assert len(sources) == 2
    for source in sources:
        assert source.key[1:] in sections, source
        if source.verification is Verification.UNVERIFIED:
            assert source.evidence is Evidence.CLINIC_POLICY
    # The default comes from this sentence of §11.1.
    assert "administered **within 14 days**" in text
    assert policy.esketamine_administration_days == 14
