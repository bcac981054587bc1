"""A patient of the ``clinic`` fixture with a signed plan, a companion account, and sessions: one
past dosing session, two coming ones and a coming integration session (EMDR)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils import timezone

from kapstone.dosing.models import DosingSession
from kapstone.dosing.services import book_dosing_session
from kapstone.integration.services import book_integration_session
from tests.companion.support import make_account
from tests.shell.chairside_support import signed_plan_for


@dataclass
class Booked:
    account: object
    plan: object
    past: DosingSession
    next: DosingSession
    later: DosingSession
    integration: object


def next_day_at(hour: int, days: int, zone: str = "America/New_York") -> dt.datetime:
    day = timezone.localtime(timezone.now(), ZoneInfo(zone)).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour, 0), tzinfo=ZoneInfo(zone))


def booked_patient(clinic) -> Booked:  # type: ignore[no-untyped-def]
    patient = clinic.on_team
    site = patient.home_site
    site.address = "12 River Road, Springfield"
    site.save()
    plan = signed_plan_for(clinic)
    prescriber = clinic.staff["prescriber"]
    now = timezone.now()
    past_start = now - dt.timedelta(days=3)
    past = DosingSession.objects.create(
        patient=patient,
        site=site,
        plan=plan,
        route=plan.route,
        starts_at=past_start,
        ends_at=past_start + dt.timedelta(hours=2),
        booked_at=past_start - dt.timedelta(days=3),
    )
    next_ = book_dosing_session(
        by=prescriber, patient=patient, starts_at=next_day_at(10, 2), plan=plan
    )
    later = book_dosing_session(
        by=prescriber, patient=patient, starts_at=next_day_at(10, 9), plan=plan
    )
    integration = book_integration_session(
        by=prescriber,
        patient=patient,
        starts_at=next_day_at(15, 3),
        modality="emdr",
        dosing_session=next_,
        site=site,
    )
    account = make_account(patient=patient, by=clinic.staff["intake_coordinator"])
    return Booked(account, plan, past, next_, later, integration)
