"""The demo clinic's calendar and a retreat week waiting to be scheduled.

Rooms per site (IV chairs with pumps and monitoring, an observation room for IM, lozenge and
esketamine), weekday opening hours, each scheduled staff member's weekly hours and break, and a few
new patients with a signed eligibility decision and a signed intensive-retreat plan whose sessions
are not booked yet: the coordinator schedules them at /schedule/. Everything goes through the
services, so the audit trail is real.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from kapstone.accounts.models import Site, StaffUser
from kapstone.clinical.access import Modality
from kapstone.clinical.routes import Route
from kapstone.demo.courses import (
    FrontDesk,
    SyntheticPatient,
    ready_to_dose,
    register_synthetic,
)
from kapstone.patients.models import Patient, ReferralSource, SexAtBirth
from kapstone.plans import services as plans
from kapstone.timetable import services as timetable

OBSERVATION_ROUTES = (
    Route.IM.value,
    Route.SC.value,
    Route.SUBLINGUAL_LOZENGE.value,
    Route.ORAL.value,
    Route.INTRANASAL_ESKETAMINE.value,
)
# Per site (by position in the demo's SITES): rooms as (name, routes).
ROOMS = (
    (
        ("IV chair 1", (Route.IV.value,)),
        ("IV chair 2", (Route.IV.value,)),
        ("Observation room A", OBSERVATION_ROUTES),
    ),
    (("IV chair 1", (Route.IV.value,)), ("Observation room", OBSERVATION_ROUTES)),
    (("Observation room", OBSERVATION_ROUTES),),
)
WEEKDAYS = range(5)
OPENS, CLOSES = dt.time(8), dt.time(18)


def _t(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


# username -> [(weekdays, site index, starts, ends, break)]: two sites, everyone on one site a day.
HOURS: dict[str, list[tuple[tuple[int, ...], int, str, str, tuple[str, str] | None]]] = {
    "prescriber": [((0, 1, 2, 3, 4), 0, "08:00", "18:00", None)],
    "prescriber2": [((0, 1, 2, 3, 4), 1, "08:00", "18:00", None)],
    "nurse": [((0, 1, 2, 3, 4), 0, "08:00", "17:00", ("12:00", "12:30"))],
    "nurse3": [
        ((0, 2, 4), 0, "09:00", "18:00", ("12:30", "13:00")),
        ((1, 3), 1, "09:00", "18:00", ("12:30", "13:00")),
    ],
    "nurse2": [((0, 1, 2, 3, 4), 1, "08:00", "17:00", ("12:00", "12:30"))],
    "therapist": [((0, 1, 2, 3, 4), 0, "09:00", "17:00", ("12:00", "13:00"))],
    "therapist3": [((0, 1, 2, 3), 0, "10:00", "18:00", ("13:00", "13:30"))],
    "therapist2": [((0, 1, 2, 3, 4), 1, "09:00", "17:00", ("12:00", "13:00"))],
    "therapist4": [
        ((0,), 0, "09:00", "17:00", ("12:00", "13:00")),
        ((1, 2, 3, 4), 1, "09:00", "17:00", ("12:00", "13:00")),
    ],
}


@dataclass(frozen=True)
class Retreater(SyntheticPatient):
    modality: Modality
    prescriber: str
    therapist: str
    nurse: str
    trauma: bool = False


RETREAT_DESK = FrontDesk(
    mrn=9001,
    phone=7100,
    number=12,
    street="Commercial St, Portland, ME",
    contact=("Sam", "partner"),
    referral=(ReferralSource.PSYCHIATRIST, "Dr. Ruth Sato"),
    weight_kg=Decimal("72.0"),
    height_cm=Decimal("172.0"),
)
RETREATERS = (
    Retreater(
        "Iris",
        "Calloway",
        SexAtBirth.FEMALE,
        dt.date(1984, 3, 2),
        0,
        Route.IV,
        Modality.EMDR,
        "prescriber",
        "therapist",
        "nurse",
        True,
    ),
    Retreater(
        "Jonas",
        "Whitaker",
        SexAtBirth.MALE,
        dt.date(1979, 7, 19),
        0,
        Route.IV,
        Modality.CBT,
        "prescriber",
        "therapist3",
        "nurse",
    ),
    Retreater(
        "Priyanka",
        "Desai",
        SexAtBirth.FEMALE,
        dt.date(1991, 11, 8),
        0,
        Route.IM,
        Modality.IFS,
        "prescriber",
        "therapist",
        "nurse3",
    ),
    Retreater(
        "Mateus",
        "Ferreira",
        SexAtBirth.MALE,
        dt.date(1988, 1, 27),
        0,
        Route.IM,
        Modality.CBT,
        "prescriber",
        "therapist3",
        "nurse3",
    ),
    Retreater(
        "Hana",
        "Kobayashi",
        SexAtBirth.FEMALE,
        dt.date(1975, 5, 14),
        1,
        Route.IV,
        Modality.EMDR,
        "prescriber2",
        "therapist4",
        "nurse2",
        True,
    ),
    Retreater(
        "Declan",
        "Murphy",
        SexAtBirth.MALE,
        dt.date(1982, 9, 30),
        1,
        Route.IM,
        Modality.CBT,
        "prescriber2",
        "therapist2",
        "nurse2",
    ),
    Retreater(
        "Ama",
        "Boateng",
        SexAtBirth.FEMALE,
        dt.date(1993, 4, 21),
        1,
        Route.IM,
        Modality.EXPOSURE,
        "prescriber2",
        "therapist2",
        "nurse2",
    ),
    Retreater(
        "Stefan",
        "Novak",
        SexAtBirth.MALE,
        dt.date(1970, 12, 3),
        0,
        Route.IV,
        Modality.EMDR,
        "prescriber",
        "therapist",
        "nurse",
        True,
    ),
)


def build_calendar(*, sites: list[Site], staff: dict[str, StaffUser]) -> None:
    """Rooms, opening hours and staff hours; the director keeps them at /schedule/calendar/."""
    director = staff["director"]
    for site, rooms in zip(sites, ROOMS, strict=False):
        for name, routes in rooms:
            timetable.add_room(
                by=director, site=site, name=name, routes=routes, turnover_minutes=15
            )
        for weekday in WEEKDAYS:
            timetable.set_opening_hours(
                by=director, site=site, weekday=weekday, opens=OPENS, closes=CLOSES
            )
    for username, spans in HOURS.items():
        for weekdays, site_index, starts, ends, pause in spans:
            for weekday in weekdays:
                timetable.set_staff_hours(
                    by=director,
                    staff=staff[username],
                    weekday=weekday,
                    site=sites[site_index],
                    starts=_t(starts),
                    ends=_t(ends),
                    break_starts=_t(pause[0]) if pause else None,
                    break_ends=_t(pause[1]) if pause else None,
                )


def build_pending_retreats(
    *, sites: list[Site], staff: dict[str, StaffUser], now: dt.datetime
) -> list[Patient]:
    """New patients with signed retreat plans and no sessions yet (``KAP-9001`` onwards)."""
    plans.ensure_default_templates(now=now)
    today = timezone.localdate(now)
    created = []
    for n, who in enumerate(RETREATERS):
        site = sites[who.site % len(sites)]
        patient = register_synthetic(
            who,
            n,
            desk=RETREAT_DESK,
            by=staff["intake"],
            site=site,
            care_team={
                "prescriber": staff[who.prescriber],
                "therapist": staff[who.therapist],
                "nurse": staff[who.nurse],
            },
            measured_on=today - dt.timedelta(days=3),
        )
        ready_to_dose(
            patient,
            route=who.route,
            screened_at=now,
            planned_at=now,
            trauma=who.trauma,
            modality=who.modality,
        )
        created.append(patient)
    return created


def build_timetable(
    *, sites: list[Site], staff: dict[str, StaffUser], now: dt.datetime
) -> list[Patient]:
    """The calendar, then the retreat patients waiting to be scheduled."""
    build_calendar(sites=sites, staff=staff)
    return build_pending_retreats(sites=sites, staff=staff, now=now)
