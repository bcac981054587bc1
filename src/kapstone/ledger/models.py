"""The controlled-substance ledger's tables.

What happened is written once: ledger entries (hash-chained), receipt details, counts, their lines,
discrepancies and their resolutions are :class:`~kapstone.kernel.append_only.AppendOnly` (the model
refuses a change or a delete) and refuse UPDATE and DELETE in the database (migration 0002). Two
tables are caches derived from the entries, updated in the same transaction as each entry and kept
honest by CHECK constraints: :class:`StockBalance` (never below zero) and :class:`DrawAccount`
(given + wasted + returned never more than drawn). ``verify_ledger`` replays every entry through the
core and compares.

Quantities are whole numbers in the product's stock unit: micrograms for ketamine solution,
devices for esketamine, unit doses for lozenges and tablets (see kapstone.clinical.ledger_entries).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from kapstone.clinical.ledger_entries import (
    DestructionReason,
    EntryKind,
    StockUnit,
    Substance,
    micrograms,
)
from kapstone.kernel.append_only import AppendOnly

GENESIS_HASH = "0" * 64


class ProductForm(models.TextChoices):
    VIAL = "vial", "Vial (solution)"
    LOZENGE = "lozenge", "Lozenge (troche)"
    TABLET = "tablet", "Tablet"
    NASAL_DEVICE = "nasal_device", "Nasal spray device"


UNIT_OF_FORM = {
    ProductForm.VIAL: StockUnit.MICROGRAM,
    ProductForm.LOZENGE: StockUnit.UNIT_DOSE,
    ProductForm.TABLET: StockUnit.UNIT_DOSE,
    ProductForm.NASAL_DEVICE: StockUnit.DEVICE,
}


class Product(models.Model):
    name = models.CharField(max_length=120, unique=True)
    substance = models.CharField(
        max_length=12, choices=[(s.value, s.value.title()) for s in Substance]
    )
    form = models.CharField(max_length=16, choices=ProductForm.choices)
    concentration_mg_per_ml = models.DecimalField(
        null=True, blank=True, max_digits=9, decimal_places=3
    )
    volume_ml = models.DecimalField(null=True, blank=True, max_digits=9, decimal_places=3)
    # Per lozenge, tablet or nasal device.
    strength_mg = models.DecimalField(null=True, blank=True, max_digits=9, decimal_places=3)
    unit = models.CharField(max_length=12, choices=[(u.value, u.value) for u in StockUnit])
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        form=ProductForm.VIAL,
                        unit=StockUnit.MICROGRAM,
                        concentration_mg_per_ml__gt=0,
                        volume_ml__gt=0,
                        strength_mg__isnull=True,
                    )
                    | Q(
                        form__in=[ProductForm.LOZENGE, ProductForm.TABLET],
                        unit=StockUnit.UNIT_DOSE,
                        strength_mg__gt=0,
                        concentration_mg_per_ml__isnull=True,
                        volume_ml__isnull=True,
                    )
                    | Q(
                        form=ProductForm.NASAL_DEVICE,
                        unit=StockUnit.DEVICE,
                        strength_mg__gt=0,
                        concentration_mg_per_ml__isnull=True,
                        volume_ml__isnull=True,
                    )
                ),
                name="ledger_product_form_details",
            ),
            # Esketamine is supplied only as the nasal spray device (Spravato).
            models.CheckConstraint(
                condition=Q(substance=Substance.ESKETAMINE, form=ProductForm.NASAL_DEVICE)
                | (Q(substance=Substance.KETAMINE) & ~Q(form=ProductForm.NASAL_DEVICE)),
                name="ledger_product_esketamine_is_a_device",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def stock_unit(self) -> StockUnit:
        return StockUnit(self.unit)

    @property
    def per_container(self) -> int:
        """Stock units in one vial, device, lozenge or tablet."""
        if self.form == ProductForm.VIAL:
            assert self.concentration_mg_per_ml is not None and self.volume_ml is not None
            return micrograms(self.concentration_mg_per_ml * self.volume_ml)
        return 1

    @property
    def container_word(self) -> str:
        return {"vial": "vial", "lozenge": "lozenge", "tablet": "tablet"}.get(self.form, "device")

    def milligrams(self, quantity: int) -> Decimal:
        if self.unit == StockUnit.MICROGRAM:
            return Decimal(quantity) / 1000
        assert self.strength_mg is not None
        return self.strength_mg * quantity


class StorageLocation(models.Model):
    """A locked safe or cabinet at one of the clinic's sites: one account per lot in it."""

    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=80)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["site__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="ledger_location_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.site.name} · {self.name}"


class Lot(models.Model):
    # One lot number is one product wherever it is stored (the core's rule), so it is unique.
    lot_number = models.CharField(max_length=40, unique=True)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="lots")
    expires_on = models.DateField()

    class Meta:
        ordering = ["expires_on", "lot_number"]

    def __str__(self) -> str:
        return f"{self.product.name}, lot {self.lot_number} (expires {self.expires_on:%d %b %Y})"


class LedgerHead(models.Model):
    """One row: the chain's tip. Locking it first serialises every ledger write."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self) -> str:
        return f"ledger chain tip #{self.last_seq}"


KIND_CHOICES = [(k.value, k.value.replace("_", " ").capitalize()) for k in EntryKind]
WITNESSED = [EntryKind.RECEIPT, EntryKind.WASTE, EntryKind.DESTRUCTION]
ON_A_DRAW = [EntryKind.ADMINISTERED, EntryKind.RETURN_TO_STOCK]
NEEDS_REASON = [EntryKind.COUNT_ADJUSTMENT, EntryKind.REVERSAL]


class LedgerEntry(AppendOnly):
    """One movement of stock (or the reversal of one). Never updated, never deleted."""

    seq = models.PositiveBigIntegerField(primary_key=True)
    kind = models.CharField(max_length=20, choices=KIND_CHOICES)
    at = models.DateTimeField(db_index=True)
    # A reversal carries its target's location and lot, so each account lists its own corrections.
    location = models.ForeignKey(StorageLocation, on_delete=models.PROTECT, related_name="entries")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="entries")
    # In the product's stock unit; signed only for count adjustments, 0 for reversals.
    quantity = models.BigIntegerField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    witness = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    dosing_session = models.ForeignKey(
        "dosing.DosingSession",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    draw = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="draw_entries"
    )
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    # Not unique: once a transfer-in is reversed, the same dispatch can be received again.
    transfer_out = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="transfer_ins"
    )
    to_location = models.ForeignKey(
        StorageLocation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    destruction_reason = models.CharField(
        max_length=40,
        blank=True,
        choices=[(r.value, r.value.replace("_", " ")) for r in DestructionReason],
    )
    reason = models.CharField(max_length=300, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        verbose_name_plural = "ledger entries"
        indexes = [
            models.Index(fields=["location", "lot", "seq"]),
            models.Index(fields=["patient", "at"]),
            models.Index(fields=["kind", "at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind=EntryKind.COUNT_ADJUSTMENT) & ~Q(quantity=0))
                | Q(kind=EntryKind.REVERSAL, quantity=0)
                | (
                    ~Q(kind__in=[EntryKind.COUNT_ADJUSTMENT, EntryKind.REVERSAL])
                    & Q(quantity__gt=0)
                ),
                name="ledger_entry_quantity_sign",
            ),
            models.CheckConstraint(
                condition=~Q(witness=F("actor")), name="ledger_entry_witness_is_not_actor"
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=WITNESSED) | Q(witness__isnull=False),
                name="ledger_entry_witnessed",
            ),
            models.CheckConstraint(
                condition=(Q(kind__in=ON_A_DRAW) & Q(draw__isnull=False))
                | Q(kind=EntryKind.WASTE)
                | (~Q(kind__in=[*ON_A_DRAW, EntryKind.WASTE]) & Q(draw__isnull=True)),
                name="ledger_entry_draw_link",
            ),
            models.CheckConstraint(
                condition=~Q(kind=EntryKind.DRAW)
                | Q(patient__isnull=False, dosing_session__isnull=False),
                name="ledger_entry_draw_for_a_session",
            ),
            models.CheckConstraint(
                condition=Q(kind=EntryKind.REVERSAL, reverses__isnull=False)
                | (~Q(kind=EntryKind.REVERSAL) & Q(reverses__isnull=True)),
                name="ledger_entry_reversal_target",
            ),
            models.CheckConstraint(
                condition=Q(kind=EntryKind.TRANSFER_IN, transfer_out__isnull=False)
                | (~Q(kind=EntryKind.TRANSFER_IN) & Q(transfer_out__isnull=True)),
                name="ledger_entry_transfer_in_source",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind=EntryKind.TRANSFER_OUT, to_location__isnull=False)
                    & ~Q(to_location=F("location"))
                )
                | (~Q(kind=EntryKind.TRANSFER_OUT) & Q(to_location__isnull=True)),
                name="ledger_entry_transfer_out_destination",
            ),
            models.CheckConstraint(
                condition=(~Q(kind__in=NEEDS_REASON) & ~Q(kind=EntryKind.WASTE, draw__isnull=True))
                | ~Q(reason=""),
                name="ledger_entry_reason_given",
            ),
            models.CheckConstraint(
                condition=(Q(kind=EntryKind.DESTRUCTION) & ~Q(destruction_reason=""))
                | (~Q(kind=EntryKind.DESTRUCTION) & Q(destruction_reason="")),
                name="ledger_entry_destruction_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.kind}"

    @property
    def entry_kind(self) -> EntryKind:
        return EntryKind(self.kind)

    @property
    def kind_label(self) -> str:
        return self.get_kind_display()


class ReceiptDetail(AppendOnly):
    """Where a receipt came from; covered by its entry's hash."""

    entry = models.OneToOneField(
        LedgerEntry, primary_key=True, on_delete=models.PROTECT, related_name="receipt_detail"
    )
    supplier = models.CharField(max_length=120)
    # Invoice, DEA Form 222 or CSOS order number.
    reference = models.CharField(max_length=60)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(supplier="") & ~Q(reference=""), name="ledger_receipt_sourced"
            )
        ]

    def __str__(self) -> str:
        return f"Receipt #{self.entry_id} from {self.supplier} ({self.reference})"


class StockBalance(models.Model):
    """What the book says is in one location of one lot: a cache of the entries, never negative."""

    location = models.ForeignKey(StorageLocation, on_delete=models.PROTECT, related_name="balances")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="balances")
    balance = models.BigIntegerField(default=0)
    last_seq = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["location", "lot"]
        constraints = [
            models.UniqueConstraint(
                fields=["location", "lot"], name="ledger_one_balance_per_stock"
            ),
            models.CheckConstraint(
                condition=Q(balance__gte=0), name="ledger_balance_never_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lot} at {self.location}: {self.balance}"


class DrawAccount(models.Model):
    """Where each draw went: given + wasted + returned never exceeds drawn; closed when equal."""

    draw = models.OneToOneField(
        LedgerEntry, primary_key=True, on_delete=models.PROTECT, related_name="account"
    )
    # 0 once the draw is reversed (nothing was taken after all).
    drawn = models.PositiveBigIntegerField()
    given = models.PositiveBigIntegerField(default=0)
    wasted = models.PositiveBigIntegerField(default=0)
    returned = models.PositiveBigIntegerField(default=0)
    closed = models.BooleanField(default=False)
    reversed = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(drawn__gte=F("given") + F("wasted") + F("returned")),
                name="ledger_draw_not_over_accounted",
            ),
            models.CheckConstraint(
                condition=Q(closed=True, drawn=F("given") + F("wasted") + F("returned"))
                | Q(closed=False, drawn__gt=F("given") + F("wasted") + F("returned")),
                name="ledger_draw_closed_exactly_when_accounted",
            ),
        ]

    def __str__(self) -> str:
        return f"Draw #{self.draw_id}: {self.given}+{self.wasted}+{self.returned} of {self.drawn}"

    @property
    def remaining(self) -> int:
        return self.drawn - self.given - self.wasted - self.returned


class StockCount(AppendOnly):
    """A shift or daily count of one location: the physical count of each lot against the book."""

    location = models.ForeignKey(StorageLocation, on_delete=models.PROTECT, related_name="counts")
    counted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()
    # The chain tip when counted: the book figures are as of this entry.
    as_of_seq = models.PositiveBigIntegerField()

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"Count of {self.location} at {self.at:%Y-%m-%d %H:%M}"


class CountLine(AppendOnly):
    count = models.ForeignKey(StockCount, on_delete=models.PROTECT, related_name="lines")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="+")
    book = models.BigIntegerField()
    physical = models.BigIntegerField()

    class Meta:
        ordering = ["count", "lot"]
        constraints = [
            models.UniqueConstraint(fields=["count", "lot"], name="ledger_count_line_per_lot"),
            models.CheckConstraint(
                condition=Q(book__gte=0, physical__gte=0), name="ledger_count_line_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lot}: counted {self.physical}, book {self.book}"

    @property
    def difference(self) -> int:
        return self.physical - self.book


class Discrepancy(AppendOnly):
    """A count line that did not match the book; open until the medical director resolves it."""

    line = models.OneToOneField(CountLine, on_delete=models.PROTECT, related_name="discrepancy")
    opened_at = models.DateTimeField()

    class Meta:
        ordering = ["-opened_at", "-pk"]
        verbose_name_plural = "discrepancies"

    def __str__(self) -> str:
        return f"Discrepancy {self.pk} ({self.line})"

    @property
    def is_open(self) -> bool:
        return not hasattr(self, "resolution")


class DiscrepancyResolution(AppendOnly):
    discrepancy = models.OneToOneField(
        Discrepancy, on_delete=models.PROTECT, related_name="resolution"
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()
    explanation = models.TextField()
    adjustment = models.OneToOneField(
        LedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="resolves"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(explanation=""), name="ledger_resolution_explained")
        ]

    def __str__(self) -> str:
        return f"Resolution of discrepancy {self.discrepancy_id}"
