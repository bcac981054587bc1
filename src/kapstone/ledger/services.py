"""Every change to the controlled-substance ledger: one transaction each, with its audit row.

Quantities are whole numbers in the product's stock unit (``Product.unit``): micrograms for
ketamine solution (use ``kapstone.clinical.ledger_entries.micrograms``), devices for esketamine,
unit doses for lozenges and tablets. ``Product.per_container`` converts vials to micrograms.

Witnessed operations take the witness as a :class:`StaffUser`; views obtain it from
:func:`kapstone.ledger.witness.confirm_witness`, which checks the witness's own credentials.
Input problems raise :class:`InputError` before anything is written; the core's refusals (no
balance below zero, no draw over-accounted, ...) raise it from inside the transaction, which then
rolls back whole.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from kapstone.accounts.models import Site, StaffUser
from kapstone.audit.trail import record
from kapstone.clinical import plausibility as limits
from kapstone.clinical.access import CLINICAL_ROLES
from kapstone.clinical.ledger_entries import (
    DestructionReason,
    EntryKind,
    QuantityError,
    StockUnit,
    Substance,
    micrograms,
)
from kapstone.dosing.models import DosingSession, SessionStatus
from kapstone.errors import InputError
from kapstone.ledger.book import Appender, stock_key
from kapstone.ledger.models import (
    UNIT_OF_FORM,
    CountLine,
    Discrepancy,
    DiscrepancyResolution,
    LedgerEntry,
    Lot,
    Product,
    ProductForm,
    ReceiptDetail,
    StockCount,
    StorageLocation,
)
from kapstone.ledger.units import show
from kapstone.patients.models import Patient

# -- reference data -----------------------------------------------------------------------------


def add_product(  # noqa: C901 (over the ceiling before it came in; to be split)
    *,
    by: StaffUser,
    name: str,
    substance: str,
    form: str,
    concentration_mg_per_ml: Decimal | None = None,
    volume_ml: Decimal | None = None,
    strength_mg: Decimal | None = None,
) -> Product:
    """A product the clinic stocks: a ketamine vial (mg/mL and mL), lozenge or tablet (mg each),
    or an esketamine nasal device (mg per device)."""
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = ["Name the product as it reads on the box."]
    elif Product.objects.filter(name__iexact=name).exists():
        errors["name"] = [f"There is already a product called {name!r}."]
    if substance not in set(Substance):
        errors["substance"] = ["Choose ketamine or esketamine."]
    if form not in ProductForm.values:
        errors["form"] = ["Choose vial, lozenge, tablet or nasal spray device."]
    elif (substance == Substance.ESKETAMINE) != (form == ProductForm.NASAL_DEVICE):
        errors["form"] = ["Esketamine comes as nasal spray devices, and only esketamine does."]
    if form == ProductForm.VIAL:
        for field, value, what, limit in (
            (
                "concentration_mg_per_ml",
                concentration_mg_per_ml,
                "the concentration in mg/mL",
                limits.CONCENTRATION_MG_PER_ML,
            ),
            ("volume_ml", volume_ml, "the volume in mL", limits.VIAL_VOLUME_ML),
        ):
            if value is None or value <= 0:
                errors[field] = [f"A vial needs {what}, more than 0."]
            elif (problem := limit.problem(value)) is not None:
                errors[field] = [problem]
        if not errors and concentration_mg_per_ml is not None and volume_ml is not None:
            try:
                micrograms(concentration_mg_per_ml * volume_ml)
            except QuantityError:
                errors["volume_ml"] = ["mg/mL × mL must come to a whole number of micrograms."]
        strength_mg = None
    elif form in ProductForm.values:
        if strength_mg is None or strength_mg <= 0:
            errors["strength_mg"] = [f"Give the mg in one {form.replace('_', ' ')}."]
        elif (problem := limits.UNIT_STRENGTH_MG.problem(strength_mg)) is not None:
            errors["strength_mg"] = [problem]
        concentration_mg_per_ml = volume_ml = None
    if errors:
        raise InputError(errors)
    with transaction.atomic():
        product = Product.objects.create(
            name=name,
            substance=substance,
            form=form,
            concentration_mg_per_ml=concentration_mg_per_ml,
            volume_ml=volume_ml,
            strength_mg=strength_mg,
            unit=UNIT_OF_FORM[ProductForm(form)],
        )
        record(
            actor=by,
            action="ledger.product_added",
            obj=product,
            summary=f"Product added: {product.name}",
            after={"name": name, "substance": substance, "form": form},
        )
    return product


def add_location(*, by: StaffUser, site: Site, name: str) -> StorageLocation:
    """A locked safe or cabinet at a site."""
    name = (name or "").strip()
    if not name:
        raise InputError.single("name", "Name the safe or cabinet, e.g. 'Main safe'.")
    if StorageLocation.objects.filter(site=site, name__iexact=name).exists():
        raise InputError.single("name", f"{site.name} already has a location called {name!r}.")
    with transaction.atomic():
        location = StorageLocation.objects.create(site=site, name=name)
        record(
            actor=by,
            action="ledger.location_added",
            obj=location,
            summary=f"Storage location added: {location}",
        )
    return location


# -- checks shared by the movements ---------------------------------------------------------------


def _positive(quantity: object, field: str = "quantity") -> dict[str, list[str]]:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        return {field: ["Give an amount more than 0."]}
    return {}


def _witness_problems(by: StaffUser, witness: StaffUser | None) -> dict[str, list[str]]:
    if witness is None:
        return {"witness": ["A second staff member must witness this."]}
    if witness.pk == by.pk:
        return {"witness": ["The witness must be a second staff member, not you."]}
    if not witness.is_active or witness.staff_role not in CLINICAL_ROLES:
        return {"witness": [f"{witness.display_name} cannot witness: a clinical role is needed."]}
    return {}


def _usable(location: StorageLocation, lot: Lot, on: dt.date) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not location.is_active:
        errors["location"] = [f"{location} is no longer in use."]
    if lot.expires_on < on:
        errors["lot"] = [
            f"Lot {lot.lot_number} expired on {lot.expires_on:%d %b %Y}; it cannot be given "
            "(destroy it instead)."
        ]
    return errors


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise InputError(errors)


def _audit(
    by: StaffUser, row: LedgerEntry, summary: str, patient: Patient | None = None, **extra: object
) -> None:
    record(
        actor=by,
        action=f"ledger.{row.kind}",
        patient=patient if patient is not None else row.patient,
        obj=row,
        summary=f"Ledger #{row.seq}: {summary}",
        after={
            "seq": row.seq,
            "kind": row.kind,
            "location": row.location_id,
            "lot": row.lot_id,
            "quantity": row.quantity,
            "witness": row.witness_id,
            "hash": row.hash,
            **extra,
        },
    )


def _append_to_stock(
    *,
    kind: EntryKind,
    by: StaffUser,
    location: StorageLocation,
    lot: Lot,
    quantity: int,
    now: dt.datetime,
    receipt: ReceiptDetail | None = None,
    **fields: object,
) -> LedgerEntry:
    """One entry on a location's lot, checked by the core against that account as it stands
    (locked until the transaction ends)."""
    appender = Appender()
    appender.load(stocks=[(location, lot)])
    return appender.append(
        LedgerEntry(
            kind=kind,
            at=now,
            location=location,
            lot=lot,
            quantity=quantity,
            actor=by,
            **fields,
        ),
        receipt,
    )


# -- receipts -----------------------------------------------------------------------------------


def receive_stock(
    *,
    by: StaffUser,
    witness: StaffUser,
    location: StorageLocation,
    product: Product,
    lot_number: str,
    expires_on: dt.date,
    quantity: int,
    supplier: str,
    reference: str,
    patient: Patient | None = None,
    now: dt.datetime | None = None,
) -> LedgerEntry:
    """Stock in from a supplier, witnessed. ``patient`` when it was dispensed for one patient
    (esketamine: then it must be given within 14 days). The lot is created on first receipt."""
    now = now or timezone.now()
    lot_number = (lot_number or "").strip()
    errors = _positive(quantity) | _witness_problems(by, witness)
    if not errors.get("quantity") and quantity > limits.MAX_RECEIPT_CONTAINERS * (
        product.per_container
    ):
        errors["containers"] = [
            f"A receipt holds at most {limits.MAX_RECEIPT_CONTAINERS:,} vials, devices, lozenges "
            "or tablets; record a larger delivery as several receipts."
        ]
    if (
        problem := limits.lot_expiry_problem(expires_on, today=timezone.localdate(now))
    ) is not None:
        errors["expires_on"] = [problem]
    for field, value, what in (
        ("lot_number", lot_number, "the lot number"),
        ("supplier", supplier, "the supplier"),
        ("reference", reference, "the invoice or DEA order form (222 / CSOS) number"),
    ):
        if not (value or "").strip():
            errors[field] = [f"Enter {what}."]
    if not location.is_active:
        errors["location"] = [f"{location} is no longer in use."]
    if not product.is_active:
        errors["product"] = [f"{product.name} is no longer stocked."]
    if expires_on < timezone.localdate(now):
        # Expired stock is not taken onto the shelf; it goes back to the supplier (or, if it is
        # already on the books, out through a witnessed destruction).
        errors["expires_on"] = [
            f"This lot expired on {expires_on:%d %b %Y}; do not receive it: return it to the "
            "supplier."
        ]
    existing = Lot.objects.select_related("product").filter(lot_number=lot_number).first()
    if existing is not None and (
        existing.product_id != product.pk or existing.expires_on != expires_on
    ):
        errors["lot_number"] = [
            f"Lot {lot_number} is already on the books as {existing.product.name}, expiring "
            f"{existing.expires_on:%d %b %Y}; check the lot number and expiry on the box."
        ]
    _raise(errors)
    with transaction.atomic():
        lot, _ = Lot.objects.get_or_create(
            lot_number=lot_number, defaults={"product": product, "expires_on": expires_on}
        )
        row = _append_to_stock(
            kind=EntryKind.RECEIPT,
            by=by,
            location=location,
            lot=lot,
            quantity=quantity,
            now=now,
            receipt=ReceiptDetail(supplier=supplier.strip(), reference=reference.strip()),
            witness=witness,
            patient=patient,
        )
        _audit(
            by,
            row,
            f"received {show(quantity, product)} of {product.name} lot {lot.lot_number} into "
            f"{location} from {supplier.strip()} ({reference.strip()}), witnessed by "
            f"{witness.get_username()}",
            supplier=supplier.strip(),
            reference=reference.strip(),
        )
    return row


# -- doses --------------------------------------------------------------------------------------


def draw_for_session(
    *,
    by: StaffUser,
    session: DosingSession,
    location: StorageLocation,
    lot: Lot,
    quantity: int,
    now: dt.datetime | None = None,
) -> LedgerEntry:
    """Drug taken out of the safe for one patient's dosing session; open until accounted for."""
    now = now or timezone.now()
    errors = _positive(quantity) | _usable(location, lot, timezone.localdate(now))
    if session.status == SessionStatus.CANCELLED:
        errors["session"] = ["That dosing session was cancelled."]
    if location.site_id != session.site_id:
        errors["location"] = [f"Draw from a safe at {session.site}, where the session is."]
    _raise(errors)
    with transaction.atomic():
        row = _append_to_stock(
            kind=EntryKind.DRAW,
            by=by,
            location=location,
            lot=lot,
            quantity=quantity,
            now=now,
            patient=session.patient,
            dosing_session=session,
        )
        _audit(
            by,
            row,
            f"drew {show(quantity, lot.product)} of lot {lot.lot_number} from {location} for the "
            f"dosing session of {timezone.localtime(session.starts_at):%d %b %Y %H:%M}",
            session=session.pk,
        )
    return row


def record_dose(
    *,
    by: StaffUser,
    draw: LedgerEntry,
    given: int = 0,
    wasted: int = 0,
    returned: int = 0,
    witness: StaffUser | None = None,
    now: dt.datetime | None = None,
) -> list[LedgerEntry]:
    """What became of a draw, in one go: given to the patient, wasted (witnessed) and returned
    unused to the safe (sealed devices or lozenges). Written together or not at all."""
    now = now or timezone.now()
    amounts = {"given": given, "wasted": wasted, "returned": returned}
    errors: dict[str, list[str]] = {}
    if draw.kind != EntryKind.DRAW:
        errors[""] = [f"Ledger entry #{draw.seq} is not a draw."]
    for field, amount in amounts.items():
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            errors[field] = ["Give an amount of 0 or more."]
    if not errors and not any(amounts.values()):
        errors[""] = ["Record what was given, wasted or returned."]
    if returned and draw.lot.product.unit == StockUnit.MICROGRAM:
        # Solution drawn into a syringe never goes back into a vial: what is not given is wasted.
        errors["returned"] = ["Drawn solution cannot go back to the safe; record it as wasted."]
    if any(isinstance(a, int) and a > 0 for a in (wasted, returned)) or witness is not None:
        # What closes a draw other than the dose itself is witnessed: waste, and drug going back
        # into the safe (the core leaves a return's witness to the clinic; this clinic asks one).
        errors |= _witness_problems(by, witness)
    _raise(errors)
    rows: list[LedgerEntry] = []
    product = draw.lot.product
    with transaction.atomic():
        appender = Appender()
        appender.load(entries=[draw])
        for kind, amount, field, words, who in (
            (EntryKind.ADMINISTERED, given, "given", "given", None),
            (EntryKind.WASTE, wasted, "wasted", "wasted", witness),
            (EntryKind.RETURN_TO_STOCK, returned, "returned", "returned to stock", witness),
        ):
            if amount <= 0:
                continue
            try:
                row = appender.append(
                    LedgerEntry(
                        kind=kind,
                        at=now,
                        location=draw.location,
                        lot=draw.lot,
                        quantity=amount,
                        actor=by,
                        witness=who,
                        patient=draw.patient,
                        dosing_session=draw.dosing_session,
                        draw=draw,
                    )
                )
            except InputError as exc:
                raise InputError(
                    {(field if k == "quantity" else k): v for k, v in exc.errors.items()}
                ) from None
            witnessed = f", witnessed by {who.get_username()}" if who is not None else ""
            _audit(
                by,
                row,
                f"{show(amount, product)} of draw #{draw.seq} {words}{witnessed}",
                draw=draw.seq,
            )
            rows.append(row)
    return rows


def give_from_draw(
    *, by: StaffUser, draw: LedgerEntry, quantity: int, now: dt.datetime | None = None
) -> LedgerEntry:
    """The 'given' entry of one charted dose, in stock units.

    Only ``kapstone.chairside.services.give_dose`` calls this, inside the transaction that writes
    the medication record's line, so the record and the ledger hold one entry for each dose; the
    ledger's own pages no longer take a typed 'given' amount. Refusals name the field ``dose_mg``.
    """
    try:
        (row,) = record_dose(by=by, draw=draw, given=quantity, now=now)
    except InputError as exc:
        raise InputError(
            {("dose_mg" if k in ("given", "") else k): v for k, v in exc.errors.items()}
        ) from None
    return row


# -- stock movements that are not doses ---------------------------------------------------------


def waste_from_stock(
    *,
    by: StaffUser,
    witness: StaffUser,
    location: StorageLocation,
    lot: Lot,
    quantity: int,
    reason: str,
    now: dt.datetime | None = None,
) -> LedgerEntry:
    """Drug lost from the safe itself (a dropped vial), witnessed, with the reason."""
    now = now or timezone.now()
    errors = _positive(quantity) | _witness_problems(by, witness)
    if not (reason or "").strip():
        errors["reason"] = ["Say what happened, e.g. 'vial dropped and broke'."]
    _raise(errors)
    with transaction.atomic():
        row = _append_to_stock(
            kind=EntryKind.WASTE,
            by=by,
            location=location,
            lot=lot,
            quantity=quantity,
            now=now,
            witness=witness,
            reason=reason.strip()[:300],
        )
        _audit(
            by,
            row,
            f"{show(quantity, lot.product)} of lot {lot.lot_number} wasted from {location}: "
            f"{row.reason}, witnessed by {witness.get_username()}",
        )
    return row


def destroy_stock(
    *,
    by: StaffUser,
    witness: StaffUser,
    location: StorageLocation,
    lot: Lot,
    quantity: int,
    reason: DestructionReason | str,
    note: str = "",
    now: dt.datetime | None = None,
) -> LedgerEntry:
    """Expired, damaged or recalled stock destroyed or handed to a reverse distributor, witnessed."""
    now = now or timezone.now()
    errors = _positive(quantity) | _witness_problems(by, witness)
    if reason not in set(DestructionReason):
        errors["reason"] = ["Choose why the stock is destroyed."]
    elif reason == DestructionReason.OTHER and not (note or "").strip():
        errors["note"] = ["Say why, when the reason is 'other'."]
    _raise(errors)
    with transaction.atomic():
        row = _append_to_stock(
            kind=EntryKind.DESTRUCTION,
            by=by,
            location=location,
            lot=lot,
            quantity=quantity,
            now=now,
            witness=witness,
            destruction_reason=str(reason),
            reason=(note or "").strip()[:300],
        )
        _audit(
            by,
            row,
            f"{show(quantity, lot.product)} of lot {lot.lot_number} destroyed at {location} "
            f"({str(reason).replace('_', ' ')}), witnessed by {witness.get_username()}",
        )
    return row


def transfer_stock(
    *,
    by: StaffUser,
    location: StorageLocation,
    lot: Lot,
    quantity: int,
    to_location: StorageLocation,
    now: dt.datetime | None = None,
) -> LedgerEntry:
    """Stock sent to another location; it is in transit until received there."""
    now = now or timezone.now()
    errors = _positive(quantity)
    if to_location.pk == location.pk:
        errors["to_location"] = ["Choose a different location to send it to."]
    elif not to_location.is_active:
        errors["to_location"] = [f"{to_location} is no longer in use."]
    _raise(errors)
    with transaction.atomic():
        row = _append_to_stock(
            kind=EntryKind.TRANSFER_OUT,
            by=by,
            location=location,
            lot=lot,
            quantity=quantity,
            now=now,
            to_location=to_location,
        )
        _audit(
            by,
            row,
            f"{show(quantity, lot.product)} of lot {lot.lot_number} sent from {location} to "
            f"{to_location}",
        )
    return row


def receive_transfer(
    *, by: StaffUser, transfer_out: LedgerEntry, now: dt.datetime | None = None
) -> LedgerEntry:
    """The whole of one dispatch arriving at its destination."""
    now = now or timezone.now()
    if transfer_out.kind != EntryKind.TRANSFER_OUT or transfer_out.to_location is None:
        raise InputError.single("", f"Ledger entry #{transfer_out.seq} is not a transfer.")
    with transaction.atomic():
        appender = Appender()
        appender.load(entries=[transfer_out], stocks=[(transfer_out.to_location, transfer_out.lot)])
        row = appender.append(
            LedgerEntry(
                kind=EntryKind.TRANSFER_IN,
                at=now,
                location=transfer_out.to_location,
                lot=transfer_out.lot,
                quantity=transfer_out.quantity,
                actor=by,
                transfer_out=transfer_out,
            )
        )
        _audit(
            by,
            row,
            f"{show(row.quantity, row.lot.product)} of lot {row.lot.lot_number} received at "
            f"{row.location} (sent as #{transfer_out.seq})",
        )
    return row


def reverse_entry(
    *,
    by: StaffUser,
    entry: LedgerEntry,
    reason: str,
    witness: StaffUser | None = None,
    now: dt.datetime | None = None,
) -> LedgerEntry:
    """Undoes a mistaken entry exactly, with the reason; the mistake stays on the record.

    Undoing a witnessed entry (a waste, a destruction, a receipt) is witnessed too, or one person
    alone could take back what two people saw go. A dose charted at the chair side is not undone
    here: its 'given' entry and the medication record are one, so neither changes alone."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if not (reason or "").strip():
        errors["reason"] = ["Say what was wrong with the entry."]
    if entry.kind != EntryKind.REVERSAL and (entry.witness_id is not None or witness is not None):
        errors |= _witness_problems(by, witness)
        if witness is None:
            errors["witness"] = [
                "This entry was witnessed: a second staff member must witness its reversal."
            ]
    if entry.kind == EntryKind.ADMINISTERED and entry.dosing_session_id is not None:
        errors[""] = [
            "This dose was charted on the chair-side record, which posted it here; it is not "
            "reversed on the ledger alone (what is left of the draw is wasted or returned)."
        ]
    _raise(errors)
    with transaction.atomic():
        appender = Appender()
        target = LedgerEntry.objects.select_related("location", "lot__product").get(seq=entry.seq)
        appender.load(entries=[target])
        row = appender.append(
            LedgerEntry(
                kind=EntryKind.REVERSAL,
                at=now,
                location=target.location,
                lot=target.lot,
                quantity=0,
                actor=by,
                patient=target.patient,
                dosing_session=target.dosing_session,
                reverses=target,
                reason=reason.strip()[:300],
                witness=witness,
            )
        )
        witnessed = f", witnessed by {witness.get_username()}" if witness is not None else ""
        _audit(
            by,
            row,
            f"reverses #{target.seq} ({target.get_kind_display().lower()}): {row.reason}"
            f"{witnessed}",
            reverses=target.seq,
        )
    return row


# -- counts and reconciliation ------------------------------------------------------------------


def count_stock(
    *,
    by: StaffUser,
    location: StorageLocation,
    physical: Mapping[Lot, int],
    now: dt.datetime | None = None,
) -> StockCount:
    """A physical count of the location's lots against the book; each mismatch opens a
    discrepancy for the medical director."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if not physical:
        errors[""] = ["Count at least one lot."]
    for lot, amount in physical.items():
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            errors[f"lot_{lot.pk}"] = ["Give the amount counted, 0 or more."]
    _raise(errors)
    with transaction.atomic():
        appender = Appender()
        book = appender.load(stocks=[(location, lot) for lot in physical])
        count = StockCount.objects.create(
            location=location, counted_by=by, at=now, as_of_seq=appender.head.last_seq
        )
        opened = []
        for lot, amount in sorted(physical.items(), key=lambda item: item[0].pk):
            on_book = book.balance(stock_key(location.pk, lot.pk))
            line = CountLine.objects.create(count=count, lot=lot, book=on_book, physical=amount)
            if amount != on_book:
                opened.append(Discrepancy.objects.create(line=line, opened_at=now))
        record(
            actor=by,
            action="ledger.count_recorded",
            obj=count,
            summary=f"Count of {location}: {len(physical)} lot(s), "
            f"{len(opened)} discrepanc{'y' if len(opened) == 1 else 'ies'}",
            after={"lines": {lot.lot_number: amount for lot, amount in physical.items()}},
        )
    return count


def resolve_discrepancy(
    *,
    by: StaffUser,
    discrepancy: Discrepancy,
    explanation: str,
    adjust_book: bool,
    now: dt.datetime | None = None,
) -> DiscrepancyResolution:
    """The medical director's explanation, and optionally a count adjustment bringing the book to
    what was counted (by the difference found then, since stock may have moved since)."""
    now = now or timezone.now()
    explanation = (explanation or "").strip()
    if not explanation:
        raise InputError.single("explanation", "Explain what caused the difference.")
    if (problem := limits.text_problem(explanation, "The explanation")) is not None:
        raise InputError.single("explanation", problem)
    with transaction.atomic():
        appender = Appender()  # also serialises two people resolving the same item
        found = Discrepancy.objects.select_related(
            "line__count__location__site", "line__lot__product"
        ).get(pk=discrepancy.pk)
        if hasattr(found, "resolution"):
            raise InputError.single("", "This discrepancy is already resolved.")
        line = found.line
        adjustment = None
        if adjust_book:
            appender.load(stocks=[(line.count.location, line.lot)])
            adjustment = appender.append(
                LedgerEntry(
                    kind=EntryKind.COUNT_ADJUSTMENT,
                    at=now,
                    location=line.count.location,
                    lot=line.lot,
                    quantity=line.difference,
                    actor=by,
                    reason=f"Count of {timezone.localtime(line.count.at):%d %b %Y %H:%M}: "
                    f"{explanation}"[:300],
                )
            )
            _audit(by, adjustment, f"count adjustment of {line.difference:+d} ({explanation})")
        try:
            with transaction.atomic():
                resolution = DiscrepancyResolution.objects.create(
                    discrepancy=found,
                    resolved_by=by,
                    at=now,
                    explanation=explanation,
                    adjustment=adjustment,
                )
        except IntegrityError:
            raise InputError.single("", "This discrepancy is already resolved.") from None
        product = line.lot.product
        record(
            actor=by,
            action="ledger.discrepancy_resolved",
            obj=found,
            summary=f"Discrepancy in lot {line.lot.lot_number} at {line.count.location} "
            f"({show(line.difference, product)}) "
            f"resolved{' with a count adjustment' if adjustment else ''}: {explanation}"[:300],
            after={
                "explanation": explanation,
                "adjustment": adjustment.seq if adjustment else None,
            },
        )
    return resolution
