"""The perpetual controlled-substance ledger: pure rules over an immutable book.

:func:`check` lists every problem an entry would cause; :func:`apply` returns the new book or raises
:class:`LedgerRefused` carrying those problems, leaving the book it was given untouched. The shell
persists accepted entries (hash-chained, append-only) and enforces the same invariants in the
database; this module is the single statement of what the invariants are.

Balance identity (per :class:`StockKey`, summing only entries that have not been reversed)::

    balance = Σ receipts - Σ draws - Σ wastes from stock (draw_id None) - Σ destructions
              - Σ transfers out + Σ transfers in + Σ returns to stock + Σ count-adjustment deltas

Administered amounts and wastes of a draw do not move the balance: the drug left the safe when it
was drawn. Draw identity, for every draw not reversed::

    administered + wasted + returned <= drawn, with equality exactly when the draw is closed

Invariants kept by refusing entries: no balance below zero; no draw over-accounted; witnesses are
someone other than the actor; a transfer in matches one transfer out (lot, destination, quantity)
and happens once; an entry is reversed at most once, a reversal never, and reversing must itself
keep every invariant (a draw with given or wasted drug cannot be reversed before those entries).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta, tzinfo
from enum import StrEnum

from kapstone.clinical.checks import is_naive, is_whole
from kapstone.clinical.ledger_entries import (
    Administered,
    CountAdjustment,
    Destruction,
    Draw,
    LedgerEntry,
    LotInfo,
    Receipt,
    ReturnToStock,
    Reversal,
    StockKey,
    Substance,
    TransferIn,
    TransferOut,
    Waste,
)
from kapstone.clinical.problems import Problem, Refused
from kapstone.clinical.provenance import Evidence, Source, Verification


class ProblemCode(StrEnum):
    BLANK = "blank"
    NAIVE_TIME = "naive_time"
    DUPLICATE_ENTRY_ID = "duplicate_entry_id"
    NOT_POSITIVE = "not_positive"
    ZERO_ADJUSTMENT = "zero_adjustment"
    UNKNOWN_STOCK = "unknown_stock"
    LOT_DETAILS_DISAGREE = "lot_details_disagree"
    BALANCE_BELOW_ZERO = "balance_below_zero"
    UNKNOWN_DRAW = "unknown_draw"
    DRAW_REVERSED = "draw_reversed"
    STOCK_MISMATCH = "stock_mismatch"
    EXCEEDS_DRAW = "exceeds_draw"
    WITNESS_REQUIRED = "witness_required"
    WITNESS_IS_ACTOR = "witness_is_actor"
    DUPLICATE_WITNESS = "duplicate_witness"
    SAME_LOCATION = "same_location"
    UNKNOWN_TRANSFER = "unknown_transfer"
    TRANSFER_MISMATCH = "transfer_mismatch"
    TRANSFER_ALREADY_RECEIVED = "transfer_already_received"
    UNKNOWN_ENTRY = "unknown_entry"
    ALREADY_REVERSED = "already_reversed"
    REVERSAL_OF_REVERSAL = "reversal_of_reversal"
    DRAW_HAS_ACTIVITY = "draw_has_activity"
    BEFORE_REFERENCED_ENTRY = "before_referenced_entry"


class LedgerRefused(Refused):
    """The entry was refused; ``problems`` says every reason (each with its ``ProblemCode``), and
    the book is unchanged."""

    def __init__(self, entry_id: str, problems: tuple[Problem, ...]) -> None:
        self.entry_id = entry_id
        super().__init__(problems)

    def describe(self) -> str:
        details = "; ".join(f"{p.field}: {p.message}" for p in self.problems)
        return f"ledger entry {self.entry_id!r} refused: {details}"


@dataclass(frozen=True, slots=True)
class StockAccount:
    stock: StockKey
    lot: LotInfo
    balance: int


@dataclass(frozen=True, slots=True)
class DrawStatus:
    draw: Draw
    administered: int = 0
    wasted: int = 0
    returned: int = 0

    @property
    def accounted(self) -> int:
        return self.administered + self.wasted + self.returned

    @property
    def remaining(self) -> int:
        return self.draw.quantity - self.accounted

    @property
    def is_closed(self) -> bool:
        return self.remaining == 0


@dataclass(frozen=True, slots=True)
class LedgerBook:
    """Every accepted entry in order, and the state they produce. Build with :func:`replay`."""

    entries: tuple[LedgerEntry, ...] = ()
    accounts: Mapping[StockKey, StockAccount] = field(default_factory=dict)
    draws: Mapping[str, DrawStatus] = field(default_factory=dict)
    in_transit: Mapping[str, TransferOut] = field(default_factory=dict)
    received_transfers: Mapping[str, str] = field(default_factory=dict)
    reversed_by: Mapping[str, str] = field(default_factory=dict)
    by_id: Mapping[str, LedgerEntry] = field(default_factory=dict)

    def balance(self, stock: StockKey) -> int:
        account = self.accounts.get(stock)
        return 0 if account is None else account.balance

    def open_draws(self) -> tuple[DrawStatus, ...]:
        return tuple(d for d in self.draws.values() if not d.is_closed)

    def is_reversed(self, entry_id: str) -> bool:
        return entry_id in self.reversed_by


class _Scratch:
    """Mutable working copy of a book's state while one entry is checked; never escapes."""

    def __init__(self, book: LedgerBook) -> None:
        self.book = book
        self.accounts = dict(book.accounts)
        self.draws = dict(book.draws)
        self.in_transit = dict(book.in_transit)
        self.received = dict(book.received_transfers)
        self.reversed_by = dict(book.reversed_by)
        self.touched: set[StockKey] = set()
        self.problems: list[Problem] = []

    def problem(self, code: ProblemCode, field_name: str, message: str) -> None:
        self.problems.append(Problem(field_name, message, code=code))

    def move(self, stock: StockKey, delta: int, lot: LotInfo | None = None) -> None:
        account = self.accounts.get(stock)
        if account is None:
            if lot is None:
                self.problem(
                    ProblemCode.UNKNOWN_STOCK,
                    "stock",
                    f"no stock of lot {stock.lot!r} has been received at {stock.location!r}",
                )
                return
            account = StockAccount(stock, lot, 0)
        self.accounts[stock] = replace(account, balance=account.balance + delta)
        self.touched.add(stock)

    def adjust_draw(self, draw_id: str, **deltas: int) -> None:
        status = self.draws[draw_id]
        self.draws[draw_id] = replace(
            status, **{name: getattr(status, name) + value for name, value in deltas.items()}
        )


def _blank(value: str | None) -> bool:
    return value is None or not str(value).strip()


def _require(s: _Scratch, value: str | None, field_name: str, what: str) -> None:
    if _blank(value):
        s.problem(ProblemCode.BLANK, field_name, f"{what} is required")


def _positive(s: _Scratch, quantity: int, field_name: str = "quantity") -> bool:
    if not is_whole(quantity, at_least=1):
        s.problem(
            ProblemCode.NOT_POSITIVE,
            field_name,
            f"{quantity!r} is not a positive whole number of the lot's unit",
        )
        return False
    return True


def _witness(s: _Scratch, witness: str | None, actor: str, field_name: str = "witness") -> None:
    if _blank(witness):
        s.problem(ProblemCode.WITNESS_REQUIRED, field_name, "a second staff member must witness")
    elif witness == actor:
        s.problem(
            ProblemCode.WITNESS_IS_ACTOR,
            field_name,
            "the witness must be someone other than the actor",
        )


def _not_before(s: _Scratch, entry: LedgerEntry, earlier: LedgerEntry, field_name: str) -> None:
    if entry.at.tzinfo is not None and entry.at < earlier.at:
        s.problem(
            ProblemCode.BEFORE_REFERENCED_ENTRY,
            field_name,
            f"dated {entry.at.isoformat()}, "
            f"before {earlier.entry_id!r} at {earlier.at.isoformat()}",
        )


def _draw_for(
    s: _Scratch, entry: Administered | Waste | ReturnToStock, draw_id: str
) -> DrawStatus | None:
    if s.book.is_reversed(draw_id):
        s.problem(ProblemCode.DRAW_REVERSED, "draw_id", f"draw {draw_id!r} was reversed")
        return None
    status = s.draws.get(draw_id)
    if status is None:
        s.problem(ProblemCode.UNKNOWN_DRAW, "draw_id", f"there is no draw {draw_id!r}")
        return None
    if status.draw.stock != entry.stock:
        s.problem(
            ProblemCode.STOCK_MISMATCH,
            "stock",
            f"draw {draw_id!r} came from {status.draw.stock}, not {entry.stock}",
        )
    _not_before(s, entry, status.draw, "at")
    if isinstance(entry.quantity, int) and entry.quantity > status.remaining:
        s.problem(
            ProblemCode.EXCEEDS_DRAW,
            "quantity",
            f"{entry.quantity} is more than the {status.remaining} still unaccounted for "
            f"in draw {draw_id!r} ({status.draw.quantity} drawn)",
        )
    return status


def _lot_agrees(s: _Scratch, lot: LotInfo) -> None:
    for account in s.accounts.values():
        if account.lot.lot == lot.lot and account.lot != lot:
            s.problem(
                ProblemCode.LOT_DETAILS_DISAGREE,
                "lot",
                f"lot {lot.lot!r} is already on the books as {account.lot}",
            )
            return


def _forward(s: _Scratch, entry: LedgerEntry) -> None:  # noqa: C901, PLR0915 (over the ceiling before it came in; to be split)
    """Check an entry's own fields and apply its effect to the scratch state."""
    match entry:
        case Receipt():
            for name in ("location", "supplier", "reference"):
                _require(s, getattr(entry, name), name, name.replace("_", " "))
            _require(s, entry.lot.lot, "lot.lot", "lot number")
            _require(s, entry.lot.product, "lot.product", "product")
            if entry.patient_id is not None:
                _require(s, entry.patient_id, "patient_id", "patient (or None)")
            _witness(s, entry.witness, entry.actor)
            _lot_agrees(s, entry.lot)
            if _positive(s, entry.quantity):
                s.move(entry.stock, entry.quantity, entry.lot)
        case Draw():
            _require(s, entry.administration_id, "administration_id", "administration record")
            _require(s, entry.patient_id, "patient_id", "patient")
            if _positive(s, entry.quantity):
                s.move(entry.stock, -entry.quantity)
                s.draws[entry.entry_id] = DrawStatus(entry)
        case Administered():
            status = _draw_for(s, entry, entry.draw_id)
            if _positive(s, entry.quantity) and status is not None:
                s.adjust_draw(entry.draw_id, administered=entry.quantity)
        case Waste():
            _witness(s, entry.witness, entry.actor)
            if entry.draw_id is None:
                _require(s, entry.reason, "reason", "a reason for wasting from stock")
                if _positive(s, entry.quantity):
                    s.move(entry.stock, -entry.quantity)
            else:
                status = _draw_for(s, entry, entry.draw_id)
                if _positive(s, entry.quantity) and status is not None:
                    s.adjust_draw(entry.draw_id, wasted=entry.quantity)
        case ReturnToStock():
            if entry.witness is not None:
                _witness(s, entry.witness, entry.actor)
            status = _draw_for(s, entry, entry.draw_id)
            if _positive(s, entry.quantity) and status is not None:
                s.adjust_draw(entry.draw_id, returned=entry.quantity)
                s.move(entry.stock, entry.quantity)
        case TransferOut():
            _require(s, entry.to_location, "to_location", "destination")
            if entry.to_location == entry.stock.location:
                s.problem(
                    ProblemCode.SAME_LOCATION, "to_location", "a transfer must change location"
                )
            if _positive(s, entry.quantity):
                s.move(entry.stock, -entry.quantity)
                s.in_transit[entry.entry_id] = entry
        case TransferIn():
            _forward_transfer_in(s, entry)
        case Destruction():
            if not entry.witnesses:
                s.problem(
                    ProblemCode.WITNESS_REQUIRED, "witnesses", "destruction must be witnessed"
                )
            for i, witness in enumerate(entry.witnesses):
                _witness(s, witness, entry.actor, f"witnesses[{i}]")
            if len(set(entry.witnesses)) != len(entry.witnesses):
                s.problem(ProblemCode.DUPLICATE_WITNESS, "witnesses", "a witness is named twice")
            if _positive(s, entry.quantity):
                s.move(entry.stock, -entry.quantity)
        case CountAdjustment():
            _require(s, entry.reason, "reason", "a reason for the adjustment")
            if not is_whole(entry.delta):
                s.problem(
                    ProblemCode.NOT_POSITIVE, "delta", f"{entry.delta!r} is not a whole number"
                )
            elif entry.delta == 0:
                s.problem(
                    ProblemCode.ZERO_ADJUSTMENT, "delta", "an adjustment of 0 changes nothing"
                )
            else:
                s.move(entry.stock, entry.delta)
        case Reversal():
            _reverse(s, entry)


def _forward_transfer_in(s: _Scratch, entry: TransferIn) -> None:
    out_entry = s.book.by_id.get(entry.transfer_out_id)
    if not isinstance(out_entry, TransferOut):
        s.problem(
            ProblemCode.UNKNOWN_TRANSFER,
            "transfer_out_id",
            f"there is no transfer out {entry.transfer_out_id!r}",
        )
        return
    if s.book.is_reversed(out_entry.entry_id):
        s.problem(ProblemCode.UNKNOWN_TRANSFER, "transfer_out_id", "that transfer out was reversed")
        return
    if out_entry.entry_id in s.received:
        s.problem(
            ProblemCode.TRANSFER_ALREADY_RECEIVED,
            "transfer_out_id",
            f"already received as {s.received[out_entry.entry_id]!r}",
        )
        return
    expected = StockKey(out_entry.to_location, out_entry.stock.lot)
    if entry.stock != expected:
        s.problem(ProblemCode.TRANSFER_MISMATCH, "stock", f"the transfer was sent as {expected}")
    if entry.quantity != out_entry.quantity:
        s.problem(
            ProblemCode.TRANSFER_MISMATCH,
            "quantity",
            f"{entry.quantity!r} received but {out_entry.quantity} sent; record the difference "
            "with a count adjustment after receiving what was sent",
        )
    _not_before(s, entry, out_entry, "at")
    if s.problems:
        return
    source = s.accounts[out_entry.stock]
    s.move(entry.stock, entry.quantity, source.lot)
    del s.in_transit[out_entry.entry_id]
    s.received[out_entry.entry_id] = entry.entry_id


def _reverse(s: _Scratch, entry: Reversal) -> None:  # noqa: C901 (over the ceiling before it came in; to be split)
    _require(s, entry.reason, "reason", "a reason for the reversal")
    target = s.book.by_id.get(entry.reverses)
    if target is None:
        s.problem(ProblemCode.UNKNOWN_ENTRY, "reverses", f"there is no entry {entry.reverses!r}")
        return
    if isinstance(target, Reversal):
        s.problem(
            ProblemCode.REVERSAL_OF_REVERSAL,
            "reverses",
            "a reversal cannot be reversed; record the original movement again",
        )
        return
    if target.entry_id in s.reversed_by:
        s.problem(
            ProblemCode.ALREADY_REVERSED,
            "reverses",
            f"{target.entry_id!r} was already reversed by {s.reversed_by[target.entry_id]!r}",
        )
        return
    _not_before(s, entry, target, "at")
    match target:
        case Receipt():
            s.move(target.stock, -target.quantity)
        case Draw():
            status = s.draws[target.entry_id]
            if status.accounted:
                s.problem(
                    ProblemCode.DRAW_HAS_ACTIVITY,
                    "reverses",
                    f"draw {target.entry_id!r} has {status.accounted} given, wasted or returned; "
                    "reverse those entries first",
                )
                return
            s.move(target.stock, target.quantity)
            del s.draws[target.entry_id]
        case Administered():
            s.adjust_draw(target.draw_id, administered=-target.quantity)
        case Waste():
            if target.draw_id is None:
                s.move(target.stock, target.quantity)
            else:
                s.adjust_draw(target.draw_id, wasted=-target.quantity)
        case ReturnToStock():
            s.adjust_draw(target.draw_id, returned=-target.quantity)
            s.move(target.stock, -target.quantity)
        case TransferOut():
            if target.entry_id in s.received:
                s.problem(
                    ProblemCode.TRANSFER_ALREADY_RECEIVED,
                    "reverses",
                    f"transfer {target.entry_id!r} was received as "
                    f"{s.received[target.entry_id]!r}; reverse that first",
                )
                return
            s.move(target.stock, target.quantity)
            del s.in_transit[target.entry_id]
        case TransferIn():
            s.move(target.stock, -target.quantity)
            del s.received[target.transfer_out_id]
            out_entry = s.book.by_id[target.transfer_out_id]
            assert isinstance(out_entry, TransferOut)
            s.in_transit[out_entry.entry_id] = out_entry
        case Destruction():
            s.move(target.stock, target.quantity)
        case CountAdjustment():
            s.move(target.stock, -target.delta)
    s.reversed_by[target.entry_id] = entry.entry_id


def _transition(book: LedgerBook, entry: LedgerEntry) -> tuple[LedgerBook | None, _Scratch]:
    s = _Scratch(book)
    _require(s, entry.entry_id, "entry_id", "an entry id")
    _require(s, entry.actor, "actor", "the staff member making the entry")
    if entry.entry_id in book.by_id:
        s.problem(ProblemCode.DUPLICATE_ENTRY_ID, "entry_id", f"{entry.entry_id!r} is already used")
    if is_naive(entry.at):
        s.problem(ProblemCode.NAIVE_TIME, "at", "the time must carry its timezone")
    _forward(s, entry)
    for stock in sorted(s.touched, key=lambda k: (k.location, k.lot)):
        balance = s.accounts[stock].balance
        if balance < 0:
            s.problem(
                ProblemCode.BALANCE_BELOW_ZERO,
                "quantity",
                f"{stock.lot!r} at {stock.location!r} would fall to {balance} "
                f"(on hand {book.balance(stock)})",
            )
    if s.problems:
        return None, s
    by_id = dict(book.by_id)
    by_id[entry.entry_id] = entry
    return (
        LedgerBook(
            entries=(*book.entries, entry),
            accounts=s.accounts,
            draws=s.draws,
            in_transit=s.in_transit,
            received_transfers=s.received,
            reversed_by=s.reversed_by,
            by_id=by_id,
        ),
        s,
    )


def check(book: LedgerBook, entry: LedgerEntry) -> tuple[Problem, ...]:
    """Every problem ``entry`` would cause; empty when :func:`apply` would accept it."""
    return tuple(_transition(book, entry)[1].problems)


def apply(book: LedgerBook, entry: LedgerEntry) -> LedgerBook:
    """The book with ``entry`` appended, or :class:`LedgerRefused` (``book`` is never modified)."""
    new_book, scratch = _transition(book, entry)
    if new_book is None:
        raise LedgerRefused(entry.entry_id, tuple(scratch.problems))
    return new_book


def replay(entries: Iterable[LedgerEntry], book: LedgerBook | None = None) -> LedgerBook:
    """Apply entries in order (for example, those loaded from the database)."""
    result = LedgerBook() if book is None else book
    for entry in entries:
        result = apply(result, entry)
    return result


# --- deadlines and expiry ------------------------------------------------------------------------


ESKETAMINE_ADMINISTRATION_WINDOW_SOURCE = Source(
    "§11.1",
    Verification.SECONDARY,
    Evidence.LABEL,
    "Spravato REMS distribution: product dispensed for a specific patient must be administered "
    "within 14 days of the centre receiving it (spravatohcp.com managing-center-operations, a "
    "manufacturer page; the REMS document itself was not read).",
)
ALERT_LEAD_TIME_SOURCE = Source(
    "§11.1",
    Verification.UNVERIFIED,
    Evidence.CLINIC_POLICY,
    "How many days ahead to warn is the clinic's choice; no source sets it.",
)


@dataclass(frozen=True, slots=True)
class LedgerPolicy:
    """Clinic-editable settings for stock alerts; results record ``version``."""

    version: str = "default-2026-11"
    esketamine_administration_days: int = 14
    esketamine_administration_source: Source = ESKETAMINE_ADMINISTRATION_WINDOW_SOURCE
    esketamine_warning_days: int = 3
    lot_expiry_warning_days: int = 30
    warning_source: Source = ALERT_LEAD_TIME_SOURCE


class AlertKind(StrEnum):
    ADMINISTRATION_DEADLINE_PASSED = "administration_deadline_passed"
    ADMINISTRATION_DEADLINE_NEAR = "administration_deadline_near"
    LOT_EXPIRED = "lot_expired"
    LOT_EXPIRING = "lot_expiring"


@dataclass(frozen=True, slots=True)
class StockAlert:
    kind: AlertKind
    stock: StockKey
    quantity: int
    due_on: date
    days_left: int  # negative once past
    policy_version: str
    patient_id: str | None = None
    receipt_id: str | None = None
    source: Source | None = None


def _patient_receipt_outstanding(book: LedgerBook, stock: StockKey) -> list[tuple[Receipt, int]]:
    """Patient-specific receipts on ``stock`` and what is left of each, oldest used first.

    Draws for a patient (net of returns) use up that patient's receipts in receipt order; the total
    left is then capped by the account balance, taken off the oldest receipts first, since
    destruction or transfer usually removes the oldest stock. An approximation: the ledger does not
    tag individual devices.
    """
    receipts: list[Receipt] = []
    used: dict[str, int] = {}
    for entry in book.entries:
        if book.is_reversed(entry.entry_id):
            continue
        if isinstance(entry, Receipt) and entry.stock == stock and entry.patient_id is not None:
            receipts.append(entry)
        elif isinstance(entry, Draw) and entry.stock == stock:
            used[entry.patient_id] = used.get(entry.patient_id, 0) + entry.quantity
        elif isinstance(entry, ReturnToStock) and entry.stock == stock:
            draw = book.by_id[entry.draw_id]
            assert isinstance(draw, Draw)
            used[draw.patient_id] = used.get(draw.patient_id, 0) - entry.quantity
    left: list[tuple[Receipt, int]] = []
    for receipt in sorted(receipts, key=lambda r: r.at):
        assert receipt.patient_id is not None
        consumed = min(receipt.quantity, max(0, used.get(receipt.patient_id, 0)))
        used[receipt.patient_id] = used.get(receipt.patient_id, 0) - consumed
        left.append((receipt, receipt.quantity - consumed))
    excess = sum(q for _, q in left) - book.balance(stock)
    capped: list[tuple[Receipt, int]] = []
    for receipt, quantity in left:
        cut = min(quantity, max(0, excess))
        excess -= cut
        capped.append((receipt, quantity - cut))
    return [(r, q) for r, q in capped if q > 0]


def stock_alerts(
    book: LedgerBook, *, as_of: date, zone: tzinfo, policy: LedgerPolicy | None = None
) -> tuple[StockAlert, ...]:
    """Stock on hand past or near its deadline as of ``as_of`` (a date in the clinic's ``zone``).

    * Esketamine received for a patient: due ``policy.esketamine_administration_days`` after the
      receipt's calendar date in ``zone``; day ``due_on`` itself is still in time.
    * Any lot with stock: usable through ``expires_on``; expired the day after.
    """
    rules = LedgerPolicy() if policy is None else policy
    alerts: list[StockAlert] = []
    for stock, account in book.accounts.items():
        if account.balance <= 0:
            continue
        if account.lot.substance is Substance.ESKETAMINE:
            for receipt, quantity in _patient_receipt_outstanding(book, stock):
                due = receipt.at.astimezone(zone).date() + timedelta(
                    days=rules.esketamine_administration_days
                )
                days_left = (due - as_of).days
                if days_left < 0:
                    kind = AlertKind.ADMINISTRATION_DEADLINE_PASSED
                elif days_left <= rules.esketamine_warning_days:
                    kind = AlertKind.ADMINISTRATION_DEADLINE_NEAR
                else:
                    continue
                alerts.append(
                    StockAlert(
                        kind,
                        stock,
                        quantity,
                        due,
                        days_left,
                        rules.version,
                        receipt.patient_id,
                        receipt.entry_id,
                        rules.esketamine_administration_source,
                    )
                )
        days_left = (account.lot.expires_on - as_of).days
        if days_left < 0 or days_left <= rules.lot_expiry_warning_days:
            alerts.append(
                StockAlert(
                    AlertKind.LOT_EXPIRED if days_left < 0 else AlertKind.LOT_EXPIRING,
                    stock,
                    account.balance,
                    account.lot.expires_on,
                    days_left,
                    rules.version,
                    source=rules.warning_source,
                )
            )
    return tuple(sorted(alerts, key=lambda a: (a.due_on, a.stock.location, a.stock.lot, a.kind)))
