"""Building blocks for the chair-side tests: a patient ready to dose (signed eligibility and plan)
and a session that began a while ago, through the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from kapstone.chairside import services
from kapstone.clinical.routes import Route
from kapstone.dosing.models import DosingSession
from kapstone.plans import services as plan_services
from tests.shell.intake_support import signed_eligibility_for
from tests.shell.plans_support import ready_to_sign


def signed_plan_for(clinic, **overrides):  # type: ignore[no-untyped-def]
    """IV 0.5 mg/kg over 40 min at 10 mg/mL on a 70 kg patient (35 mg) unless overridden."""
    patient = clinic.on_team
    signed_eligibility_for(patient, clinic.staff["prescriber"])
    plan = ready_to_sign(
        patient, clinic.staff["prescriber"], clinic.staff["therapist"], **overrides
    )
    plan_services.sign_plan(by=clinic.staff["prescriber"], plan=plan)
    return plan


def esketamine_overrides() -> dict:
    return {
        "key": "esketamine_induction",
        "route": Route.INTRANASAL_ESKETAMINE,
        "dose_basis": "mg",
        "dose_steps": (Decimal("56"),),
        "concentration_mg_per_ml": None,
        "infusion_minutes": None,
    }


def past_session(clinic, *, began_minutes_ago: int = 90, route: str = "iv", plan=None):  # type: ignore[no-untyped-def]
    """A booked session that started a while ago (created directly: booking refuses the past), so
    readings can be charted at times spread over it."""
    now = timezone.now()
    starts = now - dt.timedelta(minutes=began_minutes_ago)
    return DosingSession.objects.create(
        patient=clinic.on_team,
        site=clinic.on_team.home_site,
        plan=plan,
        route=route,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=3),
        booked_at=starts - dt.timedelta(days=3),
    )


def at(session, minutes: int) -> dt.datetime:
    """A time ``minutes`` after the session's start."""
    return session.starts_at + dt.timedelta(minutes=minutes)


def vitals(record, by, when, sys=120, dia=78, hr=72, spo2=98, rr=14, sedation="alert"):  # type: ignore[no-untyped-def]
    return services.record_vitals(
        by=by,
        record=record,
        taken_at=when,
        systolic=sys,
        diastolic=dia,
        heart_rate=hr,
        spo2=spo2,
        respiratory_rate=rr,
        sedation=sedation,
    )


def ready_to_dose(clinic, **plan_overrides):  # type: ignore[no-untyped-def]
    """An open record with the checklist passed and a normal baseline 10 minutes into the session."""
    plan = signed_plan_for(clinic, **plan_overrides)
    route = plan.route
    session = past_session(clinic, route=route, plan=plan)
    nurse = clinic.staff["nurse"]
    record = services.open_record(by=nurse, session=session)
    services.answer_checklist(
        by=nurse,
        record=record,
        identity_confirmed=True,
        fasting_confirmed=True,
        escort_confirmed=True,
        pregnancy_status="not_pregnant",
        weight_kg=Decimal("70.0"),
    )
    vitals(record, nurse, at(session, 5))
    draw_for(record)
    return record


def draw_for(record, *, mg: int = 50, devices: int = 3):  # type: ignore[no-untyped-def]
    """The session's draw from the safe (ketamine mg, or esketamine devices), stock received
    first: a dose is charted against an open draw."""
    from kapstone.clinical.ledger_entries import micrograms
    from kapstone.ledger import services as ledger
    from tests.shell.ledger_support import receive_vials, safe, spravato

    session = record.session
    nurse, prescriber = _staff(record)
    if record.route == Route.INTRANASAL_ESKETAMINE:
        product = spravato(nurse)
        location = safe(nurse, session.site)
        receipt = ledger.receive_stock(
            by=nurse,
            witness=prescriber,
            location=location,
            product=product,
            lot_number="SPR1",
            expires_on=dt.date(2030, 6, 30),
            quantity=12,
            supplier="Janssen",
            reference="CSOS-2201",
            patient=session.patient,
        )
        lot, quantity = receipt.lot, devices
    else:
        stocked = receive_vials(by=nurse, witness=prescriber, site=session.site)
        location, lot, quantity = stocked.location, stocked.lot, micrograms(mg)
    return ledger.draw_for_session(
        by=nurse, session=session, location=location, lot=lot, quantity=quantity
    )


def _staff(record):  # type: ignore[no-untyped-def]
    from kapstone.accounts.models import StaffUser

    nurse = StaffUser.objects.get(pk=record.opened_by_id)
    prescriber = StaffUser.objects.filter(role="prescriber", is_active=True).order_by("pk").first()
    return nurse, prescriber


def reconcile(record):  # type: ignore[no-untyped-def]
    """Wastes (solution) or returns (sealed devices) what is left of the session's open draws,
    witnessed, so the record may be signed."""
    from kapstone.ledger import services as ledger

    nurse, prescriber = _staff(record)
    for draw in services.open_draws(record):
        left = draw.account.remaining
        if draw.lot.product.unit == "microgram":
            ledger.record_dose(by=nurse, draw=draw, wasted=left, witness=prescriber)
        else:
            ledger.record_dose(by=nurse, draw=draw, returned=left, witness=prescriber)
