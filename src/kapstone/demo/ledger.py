"""The demo clinic's controlled-substance ledger, consistent with its dosing sessions.

Each site's safe receives racemic ketamine before the first session; every session held so far
draws its dose for the patient (0.5 mg/kg IV, the standard induction dose, §3, on the latest
weight), gives it, and wastes the rest of the drawn volume with a second nurse as witness. Entries
are written in time order across the clinic, as they would have happened.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from decimal import Decimal

from django.utils import timezone

from kapstone.accounts.models import Site, StaffUser
from kapstone.clinical.access import Role
from kapstone.clinical.routes import Route
from kapstone.dosing.models import DosingSession, SessionStatus
from kapstone.ledger.models import Lot, ProductForm, StorageLocation
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


def build_ledger(*, sites: list[Site], staff: dict[str, StaffUser], now: dt.datetime) -> int:
    """Receives stock and records every held session's draw, dose and waste; returns how many."""
    held = list(
        DosingSession.objects.filter(starts_at__lte=now)
        .exclude(status=SessionStatus.CANCELLED)
        # Esketamine comes as 28 mg nasal devices, not from the racemic vials below.
        .exclude(route=Route.INTRANASAL_ESKETAMINE.value)
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
    per_vial = product.per_container
    need: dict[int, int] = defaultdict(int)
    for session in held:
        need[session.site_id] += _drawn_mg(_dose_mg(session)) * 1000
    received_at = held[0].starts_at - dt.timedelta(days=3)
    safes: dict[int, StorageLocation] = {}
    lots: dict[int, Lot] = {}
    for n, site in enumerate(sites):
        safes[site.pk] = add_location(by=director, site=site, name="Medication safe")
        vials = math.ceil(need[site.pk] / per_vial) + 10  # stock left over after the last session
        receipt = receive_stock(
            by=nurses[0],
            witness=nurses[1],
            location=safes[site.pk],
            product=product,
            lot_number=f"KT{24117 + n}",
            expires_on=timezone.localdate(now) + dt.timedelta(days=420),
            quantity=vials * per_vial,
            supplier="Hikma Pharmaceuticals USA (demo)",
            reference=f"DEA 222 form {430117 + n}",
            now=received_at,
        )
        lots[site.pk] = receipt.lot
    for k, session in enumerate(held):
        nurse, witness = nurses[k % len(nurses)], nurses[(k + 1) % len(nurses)]
        dose_ug = int(_dose_mg(session) * 1000)
        drawn_ug = _drawn_mg(_dose_mg(session)) * 1000
        draw = draw_for_session(
            by=nurse,
            session=session,
            location=safes[session.site_id],
            lot=lots[session.site_id],
            quantity=drawn_ug,
            now=session.starts_at - dt.timedelta(minutes=15),
        )
        record_dose(
            by=nurse,
            draw=draw,
            given=dose_ug,
            wasted=drawn_ug - dose_ug,
            witness=witness,
            now=session.starts_at + dt.timedelta(minutes=45),
        )
    return len(held)
