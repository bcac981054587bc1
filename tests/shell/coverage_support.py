"""Esketamine sessions for the coverage tests: booked ahead, or held and signed at the chair (the
record written as the chair side leaves it: opened, then discharged and signed in one update)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from kapstone.billing.models import Payer
from kapstone.chairside.models import ChairsideRecord
from kapstone.dosing.models import DosingSession, SessionStatus

ESKETAMINE = "intranasal_esketamine"


def payer(name: str = "Acme Health") -> Payer:
    found, _ = Payer.objects.get_or_create(name=name, defaults={"payer_id": "ACME1"})
    return found


def noon(days_from_today: int) -> dt.datetime:
    day = timezone.localdate() + dt.timedelta(days=days_from_today)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12, 0)))


def esketamine_session(patient, *, days_from_today: int, route: str = ESKETAMINE) -> DosingSession:  # type: ignore[no-untyped-def]
    starts = noon(days_from_today)
    return DosingSession.objects.create(
        patient=patient,
        site=patient.home_site,
        route=route,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=2, minutes=30),
        booked_at=starts - dt.timedelta(days=14),
    )


def signed_session(
    patient, *, nurse, days_from_today: int, route: str = ESKETAMINE, sign: bool = True
) -> DosingSession:  # type: ignore[no-untyped-def]
    session = esketamine_session(patient, days_from_today=days_from_today, route=route)
    record = ChairsideRecord.objects.create(
        session=session,
        opened_at=session.starts_at,
        opened_by=nurse,
        route=route,
        protocol_id="esketamine-rems-default",  # the default policy's protocol for the route
        policy_version="default-2026-11",
        checklist_policy_version="default-2026-11",
    )
    if sign:
        done = session.starts_at + dt.timedelta(hours=2, minutes=10)
        ChairsideRecord.objects.filter(pk=record.pk).update(
            discharged_at=done, signed_at=done, signed_by=nurse
        )
        DosingSession.objects.filter(pk=session.pk).update(status=SessionStatus.COMPLETED)
    return session
