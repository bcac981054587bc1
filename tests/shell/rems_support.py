"""A realistic signed esketamine session, written row by row into the real chair-side tables (as a
bulk loader would: the record unsigned, then its rows, then signed), for the REMS form tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from kapstone.chairside.models import (
    AdverseEvent,
    ChairsideRecord,
    DischargeSignoff,
    DissociationRating,
    DoseAdministration,
    VitalReading,
    VitalStrike,
)
from kapstone.dosing.models import DosingSession, SessionStatus
from kapstone.ledger.models import Lot, Product, ProductForm

NEW_YORK = ZoneInfo("America/New_York")
# Friday 20 November 2026, 09:05 in New York: the form is due Friday 27 November.
FIRST_DEVICE = dt.datetime(2026, 11, 20, 9, 5, tzinfo=NEW_YORK)


def at(minutes: float, start: dt.datetime = FIRST_DEVICE) -> dt.datetime:
    return start + dt.timedelta(minutes=minutes)


def esketamine_lot(number: str = "ESK-24A117") -> Lot:
    product, _ = Product.objects.get_or_create(
        name="Spravato 28 mg nasal device",
        defaults={
            "substance": "esketamine",
            "form": ProductForm.NASAL_DEVICE,
            "strength_mg": Decimal(28),
            "unit": "device",
        },
    )
    lot, _ = Lot.objects.get_or_create(
        lot_number=number, defaults={"product": product, "expires_on": dt.date(2027, 6, 30)}
    )
    return lot


@dataclass
class SignedSession:
    session: DosingSession
    record: ChairsideRecord


def signed_esketamine_session(
    patient,
    *,
    nurse,
    prescriber,
    start: dt.datetime = FIRST_DEVICE,
    sign: bool = True,
    route: str = "intranasal_esketamine",
    policy_version: str = "default-2026-11",
) -> SignedSession:
    """56 mg in two devices (09:05, 09:10), BP 128/82 before, 152/94 at 09:46 (41 min), 126/80 at
    11:05, discharge signed 11:13 (128 min); CADSS-6 2 before and 11 at 09:45; mild nausea."""
    site = patient.home_site
    session = DosingSession.objects.create(
        patient=patient,
        site=site,
        route=route,
        nurse=nurse,
        prescriber=prescriber,
        starts_at=at(-20, start),
        ends_at=at(160, start),
        booked_at=at(-7 * 24 * 60, start),
        booked_by=nurse,
    )
    record = ChairsideRecord.objects.create(
        session=session,
        opened_at=at(-20, start),
        opened_by=nurse,
        route=route,
        protocol_id="esketamine-rems-default",  # the default policy's protocol for the route
        policy_version=policy_version,
        checklist_policy_version="default-2026-11",
    )
    lot = esketamine_lot()
    for minutes in (0, 5):
        DoseAdministration.objects.create(
            record=record,
            product=lot.product,
            lot=lot,
            expires_on=lot.expires_on,
            dose_mg=Decimal(28),
            route=route,
            started_at=at(minutes, start),
            given_by=nurse,
            devices=1,
            recorded_by=nurse,
            recorded_at=at(minutes, start),
        )

    def vitals(minutes, sys_, dia, hr, spo2, rr, sedation="alert", baseline=False):
        return VitalReading.objects.create(
            record=record,
            taken_at=at(minutes, start),
            systolic=sys_,
            diastolic=dia,
            heart_rate=hr,
            spo2=spo2,
            respiratory_rate=rr,
            sedation=sedation,
            is_baseline=baseline,
            recorded_by=nurse,
            recorded_at=at(minutes, start),
        )

    vitals(-15, 128, 82, 74, 98, 14, baseline=True)
    vitals(20, 144, 90, 80, 97, 14, sedation="drowsy")
    wrong = vitals(38, 210, 60, 80, 97, 14)  # mistyped: struck below when asked
    vitals(41, 152, 94, 82, 96, 13, sedation="drowsy")
    vitals(80, 136, 86, 76, 97, 14)
    vitals(120, 126, 80, 72, 98, 14)
    DissociationRating.objects.create(
        record=record,
        scale="cadss_6",
        score=2,
        taken_at=at(-12, start),
        is_baseline=True,
        rated_by=nurse,
        recorded_at=at(-12, start),
    )
    DissociationRating.objects.create(
        record=record,
        scale="cadss_6",
        score=11,
        taken_at=at(40, start),
        rated_by=nurse,
        recorded_at=at(40, start),
    )
    AdverseEvent.objects.create(
        record=record,
        kind="nausea",
        severity="mild",
        action="Sips of water, emesis bag at hand",
        onset_at=at(30, start),
        recorded_by=nurse,
        recorded_at=at(30, start),
    )
    VitalStrike.objects.create(reading=wrong, reason="Cuff slipped", by=nurse, at=at(39, start))
    DischargeSignoff.objects.create(
        record=record,
        criteria={"ready": True, "blockers": []},
        ready=True,
        signed_by=nurse,
        signed_at=at(128, start),
    )
    if sign:
        ChairsideRecord.objects.filter(pk=record.pk).update(
            discharged_at=at(128, start), signed_at=at(135, start), signed_by=nurse
        )
        DosingSession.objects.filter(pk=session.pk).update(status=SessionStatus.COMPLETED)
        record.refresh_from_db()
        session.refresh_from_db()
    return SignedSession(session, record)


def sample_form(patient):
    """A prepared form of the walked patient's (for the role × URL walker)."""
    from kapstone.rems.models import RemsForm
    from kapstone.rems.services import prepare_form

    found = RemsForm.objects.filter(patient=patient).first()
    if found is not None:
        return found
    signed = signed_esketamine_session(
        patient,
        nurse=patient.nurse,
        prescriber=patient.prescriber,
        start=at(-3 * 24 * 60 + patient.pk),  # a distinct time per patient
    )
    return prepare_form(session=signed.session, by=patient.nurse)
