"""The demo clinic's controlled-substance ledger, consistent with its dosing sessions.

Each site's safe receives racemic ketamine before the first session; every session held so far
draws its dose for the patient (0.5 mg/kg IV, the standard induction dose, §3, on the latest
weight), gives it, and wastes the rest of the drawn volume with a second nurse as witness;
esketamine sessions draw and give whole Spravato devices. Entries are written in time order across
the clinic, as they would have happened, and each 'given' entry is the dose on the session's
chair-side record (``kapstone verify_ledger`` checks the two agree).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from decimal import Decimal
from functools import partial

from django.utils import timezone

from kapstone.accounts.models import Site, StaffUser
from kapstone.clinical.access import Role
from kapstone.clinical.dosing import ESKETAMINE_DEVICE_MG
from kapstone.clinical.routes import Route
from kapstone.dosing.models import DosingSession, SessionStatus
from kapstone.ledger.models import Lot, Product, ProductForm, StorageLocation
from kapstone.ledger.services import (
    add_location,
    add_product,
    draw_for_session,
    receive_stock,
    record_dose,
)

MG_PER_KG = Decimal("0.5")
CONCENTRATION = Decimal(50)  # mg/mL
VIAL_ML = Decimal(10)
STEP_MG = 5  # a 0.1 mL graduation at 50 mg/mL: doses are drawn to the next mark, plus one


def _drawn_mg(dose_mg: Decimal) -> int:
    return (math.ceil(dose_mg / STEP_MG) + 1) * STEP_MG


def _dose_mg(session: DosingSession) -> Decimal:
    weight = session.patient.measurements.order_by("-measured_on", "-recorded_at").first()
    assert weight is not None
    return (MG_PER_KG * weight.weight_kg).quantize(Decimal("0.1"))


def devices_for(k: int) -> int:
    """Esketamine devices given at the ``k``-th held session: 56 mg mostly, sometimes 84 mg."""
    return 2 if k % 3 else 3


def _esketamine(session: DosingSession) -> bool:
    return session.route == Route.INTRANASAL_ESKETAMINE


def _receive(
    *,
    by: StaffUser,
    witness: StaffUser,
    safe: StorageLocation,
    product: Product,
    lot_number: str,
    quantity: int,
    reference: str,
    now: dt.datetime,
    at: dt.datetime,
) -> Lot:
    return receive_stock(
        by=by,
        witness=witness,
        location=safe,
        product=product,
        lot_number=lot_number,
        expires_on=timezone.localdate(now) + dt.timedelta(days=420),
        quantity=quantity,
        supplier="Hikma Pharmaceuticals USA (demo)"
        if product.form == ProductForm.VIAL
        else "Janssen (demo)",
        reference=reference,
        now=at,
    ).lot


def build_ledger(*, sites: list[Site], staff: dict[str, StaffUser], now: dt.datetime) -> int:
    """Receives stock and records every held session's draw, dose and waste; returns how many.

    The held sessions are those the chair side charts (ended by ``now``): the dose given here is
    the one its record shows, entry for entry (esketamine as whole devices, none wasted)."""
    held = list(
        DosingSession.objects.filter(ends_at__lte=now)
        .exclude(status=SessionStatus.CANCELLED)
        .select_related("patient", "site")
        .order_by("starts_at", "pk")
    )
    if not held:
        return 0
    director = staff["director"]
    nurses = [s for s in staff.values() if s.staff_role is Role.NURSE]
    product = add_product(
        by=director,
        name="Ketamine HCl 50 mg/mL, 10 mL vial",
        substance="ketamine",
        form=ProductForm.VIAL,
        concentration_mg_per_ml=CONCENTRATION,
        volume_ml=VIAL_ML,
    )
    spravato = (
        add_product(
            by=director,
            name="Spravato 28 mg nasal spray device",
            substance="esketamine",
            form=ProductForm.NASAL_DEVICE,
            strength_mg=ESKETAMINE_DEVICE_MG,
        )
        if any(_esketamine(s) for s in held)
        else None
    )
    per_vial = product.per_container
    # Each ketamine session's dose, read once: its draw is counted for the stock, then made.
    dose_mg = {s.pk: _dose_mg(s) for s in held if not _esketamine(s)}
    need: dict[int, int] = defaultdict(int)
    devices: dict[int, int] = defaultdict(int)
    for k, session in enumerate(held):
        if _esketamine(session):
            devices[session.site_id] += devices_for(k)
        else:
            need[session.site_id] += _drawn_mg(dose_mg[session.pk]) * 1000
    received_at = held[0].starts_at - dt.timedelta(days=3)
    safes: dict[int, StorageLocation] = {}
    lots: dict[int, Lot] = {}
    device_lots: dict[int, Lot] = {}
    for n, site in enumerate(sites):
        safes[site.pk] = add_location(by=director, site=site, name="Medication safe")
        vials = math.ceil(need[site.pk] / per_vial) + 10  # stock left over after the last session
        # Ketamine vials and esketamine devices come into the same safe on the same day.
        receive = partial(
            _receive, by=nurses[0], witness=nurses[1], safe=safes[site.pk], now=now, at=received_at
        )
        lots[site.pk] = receive(
            product=product,
            lot_number=f"KT{24117 + n}",
            quantity=vials * per_vial,
            reference=f"DEA 222 form {430117 + n}",
        )
        if spravato is not None and devices[site.pk]:
            device_lots[site.pk] = receive(
                product=spravato,
                lot_number=f"SP{3301 + n}",
                quantity=devices[site.pk] + 6,
                reference=f"CSOS {550117 + n}",
            )
    for k, session in enumerate(held):
        nurse, witness = nurses[k % len(nurses)], nurses[(k + 1) % len(nurses)]
        if _esketamine(session):
            # Sealed devices: drawn and given whole, nothing to waste.
            lot, given = device_lots[session.site_id], devices_for(k)
            drawn = given
        else:
            lot, given = lots[session.site_id], int(dose_mg[session.pk] * 1000)
            drawn = _drawn_mg(dose_mg[session.pk]) * 1000
        draw = draw_for_session(
            by=nurse,
            session=session,
            location=safes[session.site_id],
            lot=lot,
            quantity=drawn,
            now=session.starts_at - dt.timedelta(minutes=15),
        )
        record_dose(
            by=nurse,
            draw=draw,
            given=given,
            wasted=drawn - given,
            witness=witness if drawn > given else None,
            now=session.starts_at + dt.timedelta(minutes=45),
        )
    return len(held)
