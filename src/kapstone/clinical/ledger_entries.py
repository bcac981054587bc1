"""Entries of the controlled-substance ledger (ketamine and esketamine are Schedule III in the US).

Quantities are whole numbers in the lot's :class:`StockUnit`, never floats, so sums balance exactly:

* ketamine solution and powder: micrograms (``mg x 1000``), so a 500 mg / 10 mL vial is 500 000 and
  a 0.1 mL waste of a 50 mg/mL solution is 5 000;
* esketamine nasal spray: devices (one device holds 28 mg);
* lozenges and tablets: unit doses.

Every entry names its actor and a timezone-aware time. Entries are never edited; a mistake is undone
by a :class:`Reversal` naming the entry and a reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class Substance(StrEnum):
    KETAMINE = "ketamine"
    ESKETAMINE = "esketamine"


class StockUnit(StrEnum):
    MICROGRAM = "microgram"
    DEVICE = "device"
    UNIT_DOSE = "unit_dose"


class EntryKind(StrEnum):
    RECEIPT = "receipt"
    DRAW = "draw"
    ADMINISTERED = "administered"
    WASTE = "waste"
    RETURN_TO_STOCK = "return_to_stock"
    TRANSFER_OUT = "transfer_out"
    TRANSFER_IN = "transfer_in"
    DESTRUCTION = "destruction"
    COUNT_ADJUSTMENT = "count_adjustment"
    REVERSAL = "reversal"


class DestructionReason(StrEnum):
    EXPIRED = "expired"
    DAMAGED = "damaged"
    RECALLED = "recalled"
    ADMINISTRATION_DEADLINE_PASSED = "administration_deadline_passed"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class LotInfo:
    """What a lot is; the same lot number means the same product wherever it is stored."""

    lot: str
    product: str
    substance: Substance
    unit: StockUnit
    expires_on: date


@dataclass(frozen=True, slots=True)
class StockKey:
    """One account of the ledger: a lot at a storage location (a safe at a site)."""

    location: str
    lot: str


@dataclass(frozen=True, slots=True)
class Receipt:
    """Stock coming in from a supplier; ``patient_id`` when it was dispensed for one patient."""

    entry_id: str
    at: datetime
    actor: str
    location: str
    lot: LotInfo
    quantity: int
    supplier: str
    reference: str  # invoice or order form (DEA 222 / CSOS) number
    witness: str
    patient_id: str | None = None
    kind: EntryKind = EntryKind.RECEIPT

    @property
    def stock(self) -> StockKey:
        return StockKey(self.location, self.lot.lot)


@dataclass(frozen=True, slots=True)
class Draw:
    """Stock taken out of the safe for one administration; stays open until fully accounted for."""

    entry_id: str
    at: datetime
    actor: str
    stock: StockKey
    quantity: int
    administration_id: str
    patient_id: str
    kind: EntryKind = EntryKind.DRAW


@dataclass(frozen=True, slots=True)
class Administered:
    entry_id: str
    at: datetime
    actor: str
    stock: StockKey
    quantity: int
    draw_id: str
    kind: EntryKind = EntryKind.ADMINISTERED


@dataclass(frozen=True, slots=True)
class Waste:
    """Drug wasted, witnessed: of a draw (drawn - given) or, with ``draw_id`` None, from stock."""

    entry_id: str
    at: datetime
    actor: str
    stock: StockKey
    quantity: int
    witness: str
    draw_id: str | None
    reason: str = ""
    kind: EntryKind = EntryKind.WASTE


@dataclass(frozen=True, slots=True)
class ReturnToStock:
    """Drawn but unused and still sealed (a device, a lozenge): back into the safe."""

    entry_id: str
    at: datetime
    actor: str
    stock: StockKey
    quantity: int
    draw_id: str
    witness: str | None = None
    kind: EntryKind = EntryKind.RETURN_TO_STOCK


@dataclass(frozen=True, slots=True)
class TransferOut:
    entry_id: str
    at: datetime
    actor: str
    stock: StockKey
    quantity: int
    to_location: str
    kind: EntryKind = EntryKind.TRANSFER_OUT


@dataclass(frozen=True, slots=True)
class TransferIn:
    """Receipt at the destination of one :class:`TransferOut`: same lot, same quantity, once."""

    entry_id: str
    at: datetime
    actor: str
    stock: StockKey
    quantity: int
    transfer_out_id: str
    kind: EntryKind = EntryKind.TRANSFER_IN


@dataclass(frozen=True, slots=True)
class Destruction:
    """Expired, damaged or recalled stock destroyed or sent to a reverse distributor, witnessed."""

    entry_id: str
    at: datetime
    actor: str
    stock: StockKey
    quantity: int
    reason: DestructionReason
    witnesses: tuple[str, ...]
    note: str = ""
    kind: EntryKind = EntryKind.DESTRUCTION


@dataclass(frozen=True, slots=True)
class CountAdjustment:
    """Book brought to the physical count: ``delta`` is signed (physical - book)."""

    entry_id: str
    at: datetime
    actor: str
    stock: StockKey
    delta: int
    reason: str
    count_id: str | None = None
    kind: EntryKind = EntryKind.COUNT_ADJUSTMENT


@dataclass(frozen=True, slots=True)
class Reversal:
    """Undoes one earlier entry exactly; an entry is reversed at most once, a reversal never."""

    entry_id: str
    at: datetime
    actor: str
    reverses: str
    reason: str
    kind: EntryKind = EntryKind.REVERSAL


LedgerEntry = (
    Receipt
    | Draw
    | Administered
    | Waste
    | ReturnToStock
    | TransferOut
    | TransferIn
    | Destruction
    | CountAdjustment
    | Reversal
)


class QuantityError(ValueError):
    """A quantity that cannot be ledgered exactly in whole units."""


def micrograms(milligrams: Decimal | int | str) -> int:
    """Milligrams (as Decimal, int or decimal string, never float) to whole micrograms, exactly."""
    if isinstance(milligrams, float):
        raise QuantityError(
            f"{milligrams!r} is a float; pass milligrams as Decimal, int or a decimal string"
        )
    value = Decimal(milligrams) * 1000
    if value != value.to_integral_value():
        raise QuantityError(
            f"{milligrams} mg is not a whole number of micrograms; accepted: at most 3 decimals"
        )
    return int(value)
