"""Medication administration: each dose charted against the session's open ledger draw."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.chairside import facts
from kapstone.chairside.models import ChairsideRecord, DoseAdministration, DoseChangeDecision
from kapstone.chairside.selectors import session_draws
from kapstone.chairside.services._common import (
    _audit_chart,
    _charting,
    _text_problems,
    _time_problems,
    _unsigned,
)
from kapstone.chairside.services.dose_change import dose_change_decision
from kapstone.clinical import plausibility as limits
from kapstone.clinical.access import CLINICAL_ROLES
from kapstone.clinical.dosing import ESKETAMINE_DEVICE_MG, ESKETAMINE_MOST_DEVICES
from kapstone.clinical.routes import Route
from kapstone.errors import InputError
from kapstone.ledger.models import LedgerEntry, Lot
from kapstone.ledger.services import give_from_draw
from kapstone.ledger.units import dose_in_stock_units, volume_text
from kapstone.plans.selectors import SessionDose

# Which products a route's dose may be drawn as (kapstone.ledger.models.ProductForm values).
FORMS_FOR_ROUTE = {
    Route.IV: {"vial"},
    Route.IM: {"vial"},
    Route.SC: {"vial"},
    Route.SUBLINGUAL_LOZENGE: {"lozenge", "tablet"},
    Route.ORAL: {"vial", "lozenge", "tablet"},
    Route.INTRANASAL_ESKETAMINE: {"nasal_device"},
}


def open_draws(record: ChairsideRecord) -> list[LedgerEntry]:
    """The session's draws with drug not yet given, wasted or returned."""
    return [d for d in session_draws(record) if not d.account.closed]


def unreconciled(record: ChairsideRecord) -> list[str]:
    """What each open draw of the session still needs, in the words a nurse reads a syringe in."""
    return [
        f"Draw #{d.seq}: {volume_text(d.account.remaining, d.lot.product)} drawn is not yet "
        "given, wasted or returned: record waste or return with a witness."
        for d in open_draws(record)
    ]


def _draw_for_dose(
    record: ChairsideRecord,
    chosen: LedgerEntry | None,
    route: Route,
    dose_mg: Decimal | None,
    devices: int | None,
) -> tuple[LedgerEntry | None, int, dict[str, list[str]]]:
    """The open draw this dose is given from and the dose in its stock units, or what is wrong.

    Drug is drawn from the safe on the ledger before it is given; charting the dose then posts
    exactly what was given to that draw, so the record and the ledger hold one entry per dose."""
    draws = open_draws(record)
    if chosen is None:
        if not draws:
            return (
                None,
                0,
                {
                    "ledger_entry": [
                        "There is no open ledger draw for this session: draw the dose from the safe "
                        "first (Ledger, Draw for a dose), then chart it."
                    ]
                },
            )
        if len(draws) > 1:
            return None, 0, {"ledger_entry": ["Choose the ledger draw this dose was given from."]}
        chosen = draws[0]
    elif chosen.seq not in {d.seq for d in draws}:
        return (
            None,
            0,
            {
                "ledger_entry": [
                    f"Ledger entry #{chosen.seq} is not an open draw for this session: choose one of "
                    "its open draws, or draw again."
                ]
            },
        )
    else:
        chosen = next(d for d in draws if d.seq == chosen.seq)
    product = chosen.lot.product
    if product.form not in FORMS_FOR_ROUTE[route]:
        return (
            None,
            0,
            {
                "ledger_entry": [
                    f"Draw #{chosen.seq} is {product.name}, not for a {route.label} dose."
                ]
            },
        )
    if dose_mg is None:
        return chosen, 0, {}
    try:
        quantity = dose_in_stock_units(product, dose_mg, devices)
    except ValueError as exc:
        return None, 0, {"dose_mg": [f"{exc}."]}
    return chosen, quantity, {}


def _dosing_blocked(record: ChairsideRecord, now: dt.datetime) -> dict[str, list[str]]:
    """Refused on a signed record, and while the pre-dose checklist blocks dosing."""
    errors = _unsigned(record)
    if not errors:
        assessment = facts.pre_dose_assessment(record, now)
        if not assessment.may_dose:
            errors[""] = [
                f"Dosing is blocked: {r.item.label}: {r.message}" for r in assessment.blocking
            ]
    return errors


def _dose_from_devices(
    route: Route, dose_mg: Decimal | None, devices: int | None, errors: dict[str, list[str]]
) -> Decimal | None:
    """Esketamine is counted in devices of ESKETAMINE_DEVICE_MG: the dose follows from them (or must
    match them).
    Adds what is wrong to ``errors``."""
    if route is Route.INTRANASAL_ESKETAMINE:
        if devices is None or not 1 <= devices <= ESKETAMINE_MOST_DEVICES:
            errors["devices"] = [
                f"Give the number of {ESKETAMINE_DEVICE_MG} mg devices used "
                f"(1 to {ESKETAMINE_MOST_DEVICES})."
            ]
        elif dose_mg is None:
            dose_mg = ESKETAMINE_DEVICE_MG * devices
        elif dose_mg != ESKETAMINE_DEVICE_MG * devices:
            errors["dose_mg"] = [f"{devices} device(s) give {ESKETAMINE_DEVICE_MG * devices} mg."]
    elif devices is not None:
        errors["devices"] = ["Devices are counted for esketamine only."]
    return dose_mg


def _dose_problems(
    record: ChairsideRecord,
    route: Route,
    planned: SessionDose | None,
    dose_mg: Decimal | None,
    change_reason: str,
    errors: dict[str, list[str]],
) -> DoseChangeDecision | None:
    """The dose against the route's range and the signed plan's dose; adds what is wrong to
    ``errors``. A dose far from the plan's needs the prescriber's decision: it is returned."""
    decision: DoseChangeDecision | None = None
    if dose_mg is None or dose_mg <= 0:
        errors["dose_mg"] = ["Give the dose in mg."]
    elif (problem := limits.dose_range(route).problem(dose_mg)) is not None:
        errors["dose_mg"] = [
            f"{problem} The ceiling is {limits.dose_ceiling(route).source.cite()}."
        ]
    elif planned is not None and dose_mg != planned.dose_mg:
        if not change_reason.strip():
            errors["change_reason"] = [
                f"The plan's dose for this session is {planned.dose_mg} mg: say why it is changed."
            ]
        if limits.needs_prescriber_decision(planned_mg=planned.dose_mg, given_mg=dose_mg):
            decision = dose_change_decision(record, dose_mg)
            if decision is None:
                errors.setdefault("dose_mg", []).append(
                    f"{dose_mg} mg is more than {limits.DOSE_CHANGE_FRACTION.value:.0%} away from "
                    f"the plan's {planned.dose_mg} mg: a prescriber must first document the "
                    "decision to give it (Dose change decision)."
                )
    return decision


def _charting_problems(
    record: ChairsideRecord,
    by: StaffUser,
    now: dt.datetime,
    *,
    started_at: dt.datetime | None,
    stopped_at: dt.datetime | None,
    change_reason: str,
    concentration_mg_per_ml: Decimal | None,
    rate_ml_per_hour: Decimal | None,
    witnessed_by: StaffUser | None,
) -> dict[str, list[str]]:
    """What is wrong with the rest of the MAR line: the reason's length, concentration and rate,
    the times, the witness."""
    errors = _text_problems(change_reason=change_reason)
    for field, value, limit in (
        ("concentration_mg_per_ml", concentration_mg_per_ml, limits.CONCENTRATION_MG_PER_ML),
        ("rate_ml_per_hour", rate_ml_per_hour, limits.INFUSION_RATE_ML_PER_HOUR),
    ):
        if value is not None and (problem := limit.problem(value)) is not None:
            errors[field] = [problem]
    errors |= _time_problems("started_at", started_at, record, now)
    if stopped_at is not None:
        errors |= _time_problems("stopped_at", stopped_at, record, now)
        if started_at is not None and stopped_at < started_at:
            errors["stopped_at"] = ["The dose cannot stop before it starts."]
    if witnessed_by is not None and (
        witnessed_by.pk == by.pk
        or not witnessed_by.is_active
        or witnessed_by.staff_role not in CLINICAL_ROLES
    ):
        errors["witnessed_by"] = ["The witness is another active clinical staff member."]
    return errors


def _draw_and_lot(
    record: ChairsideRecord,
    ledger_entry: LedgerEntry | None,
    route: Route,
    dose_mg: Decimal | None,
    devices: int | None,
    lot: Lot | None,
    started_at: dt.datetime | None,
    errors: dict[str, list[str]],
) -> tuple[LedgerEntry | None, int, Lot | None]:
    """The open draw the dose is given from, the dose in its stock units and the draw's lot (a
    lot named as well must be the draw's, and not expired on the day); adds what is wrong to
    ``errors``."""
    draw, quantity, draw_errors = _draw_for_dose(record, ledger_entry, route, dose_mg, devices)
    for field, problems in draw_errors.items():
        errors.setdefault(field, []).extend(problems)
    if draw is not None:
        if lot is not None and lot.pk != draw.lot_id:
            errors["lot"] = [
                f"Draw #{draw.seq} is lot {draw.lot.lot_number}, not {lot.lot_number}."
            ]
        lot = draw.lot
    if (
        lot is not None
        and started_at is not None
        and lot.expires_on < timezone.localdate(started_at)
    ):
        errors["lot"] = [f"Lot {lot.lot_number} expired on {lot.expires_on:%d %b %Y}."]
    return draw, quantity, lot


def give_dose(
    *,
    by: StaffUser,
    record: ChairsideRecord,
    dose_mg: Decimal | None,
    started_at: dt.datetime | None,
    stopped_at: dt.datetime | None = None,
    change_reason: str = "",
    lot: Lot | None = None,
    ledger_entry: LedgerEntry | None = None,
    concentration_mg_per_ml: Decimal | None = None,
    rate_ml_per_hour: Decimal | None = None,
    witnessed_by: StaffUser | None = None,
    devices: int | None = None,
    now: dt.datetime | None = None,
) -> DoseAdministration:
    """One MAR line, and in the same transaction its 'given' entry on the session's open ledger
    draw (``ledger_entry``: which draw, when the session has several). Refused while the pre-dose
    checklist blocks dosing, and when no draw holds the dose."""
    now = now or timezone.now()
    errors = _dosing_blocked(record, now)
    route = record.route_value
    planned = facts.planned_dose(record)
    dose_mg = _dose_from_devices(route, dose_mg, devices, errors)
    decision = _dose_problems(record, route, planned, dose_mg, change_reason, errors)
    errors |= _charting_problems(
        record,
        by,
        now,
        started_at=started_at,
        stopped_at=stopped_at,
        change_reason=change_reason,
        concentration_mg_per_ml=concentration_mg_per_ml,
        rate_ml_per_hour=rate_ml_per_hour,
        witnessed_by=witnessed_by,
    )
    draw, quantity, lot = _draw_and_lot(
        record,
        ledger_entry,
        route,
        dose_mg if not errors.get("dose_mg") else None,
        devices,
        lot,
        started_at,
        errors,
    )
    with _charting(record, errors) as locked:
        assert dose_mg is not None and started_at is not None and draw is not None
        product = lot.product if lot is not None else None
        if concentration_mg_per_ml is None and product is not None:
            concentration_mg_per_ml = product.concentration_mg_per_ml
        given = give_from_draw(by=by, draw=draw, quantity=quantity, now=now)
        dose = DoseAdministration.objects.create(
            record=locked,
            product=product,
            lot=lot,
            expires_on=lot.expires_on if lot is not None else None,
            concentration_mg_per_ml=concentration_mg_per_ml,
            planned_dose_mg=planned.dose_mg if planned is not None else None,
            dose_mg=dose_mg,
            change_reason=change_reason.strip(),
            route=locked.route,
            started_at=started_at,
            stopped_at=stopped_at,
            rate_ml_per_hour=rate_ml_per_hour,
            given_by=by,
            witnessed_by=witnessed_by,
            devices=devices,
            ledger_entry=given,
            recorded_by=by,
            recorded_at=now,
        )
        # Readings taken before this dose started are its baseline, whenever they were charted.
        _audit_chart(
            by=by,
            record=locked,
            action="chairside.dose_given",
            obj=dose,
            summary=f"{dose_mg} mg {route.label} at {timezone.localtime(started_at):%H:%M}"
            + (f" (plan {dose.planned_dose_mg} mg: {dose.change_reason})" if dose.changed else ""),
            after={
                "dose_mg": dose_mg,
                "planned_dose_mg": dose.planned_dose_mg,
                "change_reason": dose.change_reason,
                "lot": lot.lot_number if lot else None,
                "ledger_entry": given.seq,
                "draw": draw.seq,
                "devices": devices,
                "witnessed_by": witnessed_by.pk if witnessed_by else None,
                "concentration_mg_per_ml": concentration_mg_per_ml,
                "rate_ml_per_hour": rate_ml_per_hour,
                "dose_change_decision": decision.pk if decision else None,
            },
        )
    return dose


def stop_dose(
    *,
    by: StaffUser,
    dose: DoseAdministration,
    stopped_at: dt.datetime | None,
    now: dt.datetime | None = None,
) -> DoseAdministration:
    """An infusion's end, written once."""
    now = now or timezone.now()
    record = dose.record
    errors = _unsigned(record) | _time_problems("stopped_at", stopped_at, record, now)
    if stopped_at is not None and stopped_at < dose.started_at:
        errors["stopped_at"] = ["The dose cannot stop before it starts."]
    with _charting(record, errors):
        changed = DoseAdministration.objects.filter(pk=dose.pk, stopped_at__isnull=True).update(
            stopped_at=stopped_at
        )
        if not changed:
            raise InputError.single("", "That dose's stop time is already recorded.")
        dose.refresh_from_db()
        _audit_chart(
            by=by,
            record=record,
            action="chairside.dose_stopped",
            obj=dose,
            summary=f"Dose stopped at {timezone.localtime(dose.stopped_at):%H:%M}",
            before={"stopped_at": None},
            after={"stopped_at": dose.stopped_at},
        )
    return dose
