"""Building blocks for the ledger tests (and the URL walker's sample ids): a safe with stock, a
patient with a dosing session, through the services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from kapstone.clinical.ledger_entries import micrograms
from kapstone.dosing.models import DosingSession
from kapstone.ledger import services
from kapstone.ledger.models import LedgerEntry, Lot, Product, StorageLocation


def ketamine_vial(by) -> Product:  # type: ignore[no-untyped-def]
    """Ketamine 50 mg/mL, 10 mL: 500 mg a vial."""
    found = Product.objects.filter(name="Ketamine HCl 50 mg/mL, 10 mL vial").first()
    return found or services.add_product(
        by=by,
        name="Ketamine HCl 50 mg/mL, 10 mL vial",
        substance="ketamine",
        form="vial",
        concentration_mg_per_ml=Decimal("50"),
        volume_ml=Decimal("10"),
    )


def spravato(by) -> Product:  # type: ignore[no-untyped-def]
    found = Product.objects.filter(name="Spravato 28 mg nasal spray device").first()
    return found or services.add_product(
        by=by,
        name="Spravato 28 mg nasal spray device",
        substance="esketamine",
        form="nasal_device",
        strength_mg=Decimal("28"),
    )


def safe(by, site, name: str = "Main safe") -> StorageLocation:  # type: ignore[no-untyped-def]
    found = StorageLocation.objects.filter(site=site, name=name).first()
    return found or services.add_location(by=by, site=site, name=name)


def session_for(patient, *, site=None, now=None) -> DosingSession:  # type: ignore[no-untyped-def]
    """A booked session starting soon (created directly: a dosing hold must not stand in the way)."""
    now = now or timezone.now()
    return DosingSession.objects.create(
        patient=patient,
        site=site or patient.home_site,
        starts_at=now + dt.timedelta(minutes=10),
        ends_at=now + dt.timedelta(hours=2, minutes=10),
        booked_at=now,
    )


@dataclass
class Stocked:
    location: StorageLocation
    product: Product
    lot: Lot
    receipt: LedgerEntry


def receive_vials(
    *,
    by,
    witness,
    site,
    vials: int = 2,
    lot_number: str = "K123",
    expires_on: dt.date = dt.date(2030, 6, 30),
    now=None,
) -> Stocked:  # type: ignore[no-untyped-def]
    product = ketamine_vial(by)
    location = safe(by, site)
    receipt = services.receive_stock(
        by=by,
        witness=witness,
        location=location,
        product=product,
        lot_number=lot_number,
        expires_on=expires_on,
        quantity=vials * product.per_container,
        supplier="McKesson",
        reference="CSOS-4411",
        now=now,
    )
    return Stocked(location, product, receipt.lot, receipt)


@dataclass
class Sample:
    draw: LedgerEntry
    count_id: int
    discrepancy_id: int


def sample_ledger() -> Sample:
    """One of everything the ledger's URLs name, for the role × URL walker (built once per test)."""
    from kapstone.accounts.models import StaffUser
    from kapstone.ledger.models import Discrepancy
    from kapstone.patients.models import Patient

    existing = Discrepancy.objects.select_related("line").first()
    draw = LedgerEntry.objects.filter(kind="draw").first()
    if existing is not None and draw is not None:
        return Sample(draw, existing.line.count_id, existing.pk)
    nurse = StaffUser.objects.filter(role="nurse").order_by("pk").first()
    prescriber = StaffUser.objects.filter(role="prescriber").order_by("pk").first()
    patient = Patient.objects.order_by("pk").first()
    assert nurse and prescriber and patient
    stocked = receive_vials(by=nurse, witness=prescriber, site=patient.home_site, lot_number="W1")
    draw = services.draw_for_session(
        by=nurse,
        session=session_for(patient),
        location=stocked.location,
        lot=stocked.lot,
        quantity=micrograms(35),
    )
    count = services.count_stock(
        by=nurse, location=stocked.location, physical={stocked.lot: micrograms(960)}
    )
    return Sample(draw, count.pk, count.lines.get().discrepancy.pk)
