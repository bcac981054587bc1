"""The scheduling request (the core's Instance) as the database holds it now.

``build_instance`` reads sites, opening hours, rooms, staff hours, absences, pending plans and the
sessions already booked, and hands the pure scheduler an Instance; ``Built`` keeps the rows its ids
stand for, so an accepted schedule can be booked back onto them."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from enum import Enum
from fractions import Fraction
from typing import Any

from kapstone.accounts.models import Room, Site, StaffUser
from kapstone.clinical.access import Role
from kapstone.clinical.routes import Route
from kapstone.dosing.models import DosingSession
from kapstone.integration.models import IntegrationSession
from kapstone.patients.models import Patient
from kapstone.plans.selectors import SignedPlan, signed_plan
from kapstone.scheduling import instance as core
from kapstone.scheduling.policy import SchedulingPolicy
from kapstone.scheduling.schedule import DosingBooking, IntegrationBooking, Schedule
from kapstone.timetable.models import (
    Absence,
    Closure,
    OpeningHours,
    RunKind,
    StaffHours,
)
from kapstone.timetable.selectors import (
    SCHEDULED_ROLES,
    _days,
    booked_in,
    local,
    member_id,
    pending_plans,
)

# Programs give the minimum gap in calendar days; the core wants hours between dose starts. A day
# apart is read as 20 h (the core's retreat default): tomorrow's dose may start up to 4 hours
# earlier in the day than today's, never on the same day (the core books one dose a day).
_EARLIER_NEXT_DAY_HOURS = 4


@dataclass
class Built:
    """The Instance and what is needed to turn its ids back into rows."""

    instance: core.Instance
    previous: Schedule | None
    sites: dict[str, Site]
    rooms: dict[str, Room]
    staff: dict[str, StaffUser]
    patients: dict[str, Patient]
    plans: dict[str, SignedPlan]
    # REPLAN: the booked sessions in scope, per (patient id, session index).
    booked_dosing: dict[tuple[str, int], DosingSession] = field(default_factory=dict)
    booked_integration: dict[tuple[str, int], IntegrationSession] = field(default_factory=dict)
    patient_ids: list[int] = field(default_factory=list)

    @property
    def digests(self) -> dict[str, str]:
        inst = self.instance
        return {
            "calendar": _digest((inst.start, inst.days, inst.sites, inst.policy)),
            "rooms": _digest(inst.rooms),
            "staff": _digest(inst.staff),
            "requests": _digest(inst.requests),
            "previous": _digest(self.previous),
        }


def _canon(value: Any) -> Any:
    """A deterministic JSON form of the core's dataclasses (sets sorted, enums by value)."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _canon(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return sorted([_canon(k), _canon(v)] for k, v in value.items())
    if isinstance(value, set | frozenset):
        return sorted((_canon(v) for v in value), key=json.dumps)
    if isinstance(value, list | tuple):
        return [_canon(v) for v in value]
    if isinstance(value, dt.date | dt.time | dt.datetime):
        return value.isoformat()
    if isinstance(value, Fraction):
        return str(value)
    return value


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(_canon(value), sort_keys=True).encode()).hexdigest()


def _window(day: dt.date, a: dt.time, b: dt.time) -> core.Window:
    return core.Window(dt.datetime.combine(day, a), dt.datetime.combine(day, b))


def build_instance(
    *,
    kind: str,
    starts_on: dt.date,
    weeks: int,
    patient_ids: Iterable[int],
    now: dt.datetime,
) -> Built:
    """The scheduling request as the database holds it now.

    BOOK: the pending plans of ``patient_ids``. REPLAN: the booked sessions of ``patient_ids`` in
    these weeks, with those sessions as the previous schedule. Sessions outside the request hold
    their room, nurse and therapist (the core sees them as taken rooms and staff breaks).
    """
    days = 7 * weeks
    wanted = sorted(set(patient_ids))
    calendar = _calendar(starts_on, days)
    booked = _booked(kind, wanted, starts_on, days, now)
    rooms, core_rooms = _rooms(calendar, booked.others_dosing)
    absences = _absences(starts_on, days)
    staff, core_staff = _staff(calendar, starts_on, days, absences, booked)
    requested = _requests(kind, wanted, weeks, starts_on, days, calendar, staff, absences, booked)
    previous: Schedule | None = None
    if kind == RunKind.REPLAN:
        admitted = frozenset(pid for pid, _ in requested.booked_dosing)
        previous = Schedule(
            tuple(requested.previous_dosing),
            tuple(requested.previous_integration),
            admitted,
            frozenset(),
        )
    instance = core.Instance(
        start=starts_on,
        days=days,
        sites=calendar.core_sites,
        rooms=tuple(core_rooms),
        staff=tuple(core_staff),
        requests=tuple(requested.requests),
        policy=_policy(requested.lengths, requested.windows_hours),
        slot_minutes=15,
    )
    return Built(
        instance=instance,
        previous=previous,
        sites=calendar.sites,
        rooms=rooms,
        staff=staff,
        patients=requested.patients,
        plans=requested.plans,
        booked_dosing=requested.booked_dosing,
        booked_integration=requested.booked_integration,
        patient_ids=[p.pk for p in requested.patients.values()],
    )


@dataclass(frozen=True)
class _Calendar:
    """The active sites (keyed as the core names them) with their opening hours and closures."""

    sites: dict[str, Site]
    site_by_pk: dict[int, str]
    core_sites: tuple[core.Site, ...]


def _calendar(starts_on: dt.date, days: int) -> _Calendar:
    sites = {f"s{s.pk}": s for s in Site.objects.filter(is_active=True).order_by("pk")}
    hours = defaultdict(list)
    for h in OpeningHours.objects.filter(site__is_active=True):
        hours[h.site_id].append(core.OpeningHours(h.weekday, h.opens, h.closes))
    closures = defaultdict(set)
    end_day = starts_on + dt.timedelta(days=days)
    for c in Closure.objects.filter(day__gte=starts_on, day__lt=end_day):
        closures[c.site_id].add(c.day)
    core_sites = tuple(
        core.Site(
            k,
            s.name,
            tuple(sorted(hours[s.pk], key=lambda h: h.weekday)),
            frozenset(closures[s.pk]),
        )
        for k, s in sites.items()
    )
    return _Calendar(sites, {s.pk: k for k, s in sites.items()}, core_sites)


@dataclass(frozen=True)
class _Booked:
    """The sessions already booked in these weeks: those a re-plan moves (with their integration
    sessions, by dosing session), and the others, which hold their room and staff."""

    previous_dosing: list[DosingSession]
    previous_integration: dict[int, IntegrationSession]
    others_dosing: list[DosingSession]
    others_integration: list[IntegrationSession]


def _booked(
    kind: str, wanted: list[int], starts_on: dt.date, days: int, now: dt.datetime
) -> _Booked:
    dosing, integration = booked_in(starts_on, days)
    in_scope = set(wanted) if kind == RunKind.REPLAN else set()
    previous_dosing = [
        d
        for d in dosing.filter(patient_id__in=in_scope, plan__isnull=False).order_by("starts_at")
        if d.room_id is not None and d.nurse_id is not None and d.starts_at > now
    ]
    moving = {d.pk for d in previous_dosing}
    # Keyed by the dosing session each follows (the filter leaves none without one).
    previous_integration = {
        i.dosing_session_id: i
        for i in integration.filter(dosing_session_id__in=moving)
        if i.dosing_session_id is not None
    }
    moving_integration = {i.pk for i in previous_integration.values()}
    return _Booked(
        previous_dosing=previous_dosing,
        previous_integration=previous_integration,
        others_dosing=[d for d in dosing if d.pk not in moving],
        others_integration=[i for i in integration if i.pk not in moving_integration],
    )


def _rooms(
    calendar: _Calendar, others_dosing: list[DosingSession]
) -> tuple[dict[str, Room], list[core.Room]]:
    """The active rooms equipped for a route the scheduler knows, with the times other sessions
    (and their turnover) take them."""
    rooms: dict[str, Room] = {}
    core_rooms = []
    for room in Room.objects.filter(
        is_active=True, site__in=calendar.sites.values()
    ).select_related("site"):
        routes = frozenset(Route(r) for r in room.routes if r in Route)
        if not routes:
            continue
        key = f"r{room.pk}"
        rooms[key] = room
        turnover = dt.timedelta(minutes=room.turnover_minutes)
        taken = tuple(
            core.Window(local(d.starts_at, room.site), local(d.ends_at + turnover, room.site))
            for d in others_dosing
            if d.room_id == room.pk
        )
        core_rooms.append(
            core.Room(key, calendar.site_by_pk[room.site_id], routes, room.turnover_minutes, taken)
        )
    return rooms, core_rooms


# Days off, by (staff id, patient id): one of the two is None.
_Absences = dict[tuple[int | None, int | None], set[dt.date]]


def _absences(starts_on: dt.date, days: int) -> _Absences:
    absences: _Absences = defaultdict(set)
    end_day = starts_on + dt.timedelta(days=days)
    for a in Absence.objects.filter(day__gte=starts_on, day__lt=end_day):
        absences[(a.staff_id, a.patient_id)].add(a.day)
    return absences


def _staff(
    calendar: _Calendar,
    starts_on: dt.date,
    days: int,
    absences: _Absences,
    booked: _Booked,
) -> tuple[dict[str, StaffUser], list[core.StaffMember]]:
    """Each scheduled staff member at each site they work at, with their hours on these days."""
    staff: dict[str, StaffUser] = {}
    rows = (
        StaffHours.objects.filter(
            staff__is_active=True,
            staff__role__in=[r.value for r in SCHEDULED_ROLES],
            site__in=calendar.sites.values(),
        )
        .select_related("staff", "site")
        .prefetch_related("staff__modality_credentials")
        .order_by("staff_id", "site_id", "weekday")
    )
    by_member: dict[str, list[StaffHours]] = defaultdict(list)
    for row in rows:
        key = member_id(row.staff_id, row.site_id)
        staff[key] = row.staff
        by_member[key].append(row)
    core_staff = []
    for key, member_rows in by_member.items():
        member = _staff_member(
            key, staff[key], member_rows, calendar, starts_on, days, absences, booked
        )
        if member is not None:
            core_staff.append(member)
    return staff, core_staff


def _staff_member(
    key: str,
    user: StaffUser,
    member_rows: list[StaffHours],
    calendar: _Calendar,
    starts_on: dt.date,
    days: int,
    absences: _Absences,
    booked: _Booked,
) -> core.StaffMember | None:
    site = member_rows[0].site
    weekly = {r.weekday: r for r in member_rows}
    off = absences[(user.pk, None)]
    availability, breaks = [], []
    for day in _days(starts_on, days):
        hours = weekly.get(day.weekday())
        if hours is None or day in off:
            continue
        availability.append(_window(day, hours.starts, hours.ends))
        if hours.break_starts is not None and hours.break_ends is not None:
            breaks.append(_window(day, hours.break_starts, hours.break_ends))
    # Sessions they already have (outside this request) keep them busy.
    for d in booked.others_dosing:
        if d.nurse_id == user.pk and d.site_id == site.pk:
            breaks.append(core.Window(local(d.starts_at, site), local(d.ends_at, site)))
    for i in booked.others_integration:
        if i.therapist_id == user.pk:
            breaks.append(core.Window(local(i.starts_at, site), local(i.ends_at, site)))
    role = user.staff_role
    modalities = user.modalities() if role is Role.THERAPIST else frozenset()
    if role is Role.THERAPIST and not modalities:
        return None  # a therapist without a credential cannot hold integration sessions
    return core.StaffMember(
        key,
        user.display_name,
        role,
        calendar.site_by_pk[site.pk],
        tuple(availability),
        tuple(sorted(breaks, key=lambda w: w.start)),
        modalities,
        f"{user.get_full_name() or user.username}'s office",
    )


@dataclass
class _Requested:
    """The patients asked for, their plans and retreat requests; for a re-plan, their booked
    sessions as the previous schedule and the rows those bookings stand for."""

    patients: dict[str, Patient] = field(default_factory=dict)
    plans: dict[str, SignedPlan] = field(default_factory=dict)
    requests: list[core.RetreatRequest] = field(default_factory=list)
    lengths: dict[Route, int] = field(default_factory=dict)
    windows_hours: list[int] = field(default_factory=list)
    booked_dosing: dict[tuple[str, int], DosingSession] = field(default_factory=dict)
    booked_integration: dict[tuple[str, int], IntegrationSession] = field(default_factory=dict)
    previous_dosing: list[DosingBooking] = field(default_factory=list)
    previous_integration: list[IntegrationBooking] = field(default_factory=list)


def _candidates(
    kind: str, wanted: list[int], weeks: int, booked: _Booked
) -> list[tuple[Patient, int]]:
    """Each patient asked for with the number of doses to place."""
    if kind == RunKind.REPLAN:
        counts: dict[int, int] = defaultdict(int)
        for d in booked.previous_dosing:
            counts[d.patient_id] += 1
        return [
            (p, counts[p.pk])
            for p in Patient.objects.filter(pk__in=counts).select_related("home_site")
        ]
    # A hold placed after the choice is left to the booking service, which refuses it at
    # acceptance (and then nothing is booked).
    return [
        (p.patient, p.requested(weeks)) for p in pending_plans(wanted) if p.unschedulable is None
    ]


def _requests(
    kind: str,
    wanted: list[int],
    weeks: int,
    starts_on: dt.date,
    days: int,
    calendar: _Calendar,
    staff: dict[str, StaffUser],
    absences: _Absences,
    booked: _Booked,
) -> _Requested:
    out = _Requested()
    for patient, doses in sorted(_candidates(kind, wanted, weeks, booked), key=lambda c: c[0].pk):
        signed = signed_plan(patient)
        if signed is None or not signed.modalities or doses < 1:
            continue
        pid = f"p{patient.pk}"
        site_key = calendar.site_by_pk.get(patient.home_site_id)
        if site_key is None:
            continue
        out.patients[pid] = patient
        out.plans[pid] = signed
        template = signed.template
        route = signed.route
        # Chair time from the plan's program (preparation, dosing, observation); the longest when
        # two programs share a route.
        out.lengths[route] = max(out.lengths.get(route, 0), signed.session_length.total_minutes)
        out.windows_hours.append(template.integration.within_hours)
        preferred = (
            member_id(patient.therapist_id, patient.home_site_id)
            if patient.therapist_id is not None
            else None
        )
        out.requests.append(
            core.RetreatRequest(
                patient_id=pid,
                name=patient.mrn,
                route=route,
                doses=doses,
                doses_per_week=min(7, max(1, math.ceil(signed.sessions_per_week))),
                modality=signed.modalities[0],
                integration_minutes=template.integration.minutes_max,
                min_gap_hours=max(0, 24 * template.min_gap_days - _EARLIER_NEXT_DAY_HOURS),
                preferred_therapist_id=preferred if preferred in staff else None,
                available=_patient_available(patient, starts_on, days, absences, booked),
                site_ids=frozenset({site_key}),
            )
        )
        if kind == RunKind.REPLAN:
            _add_previous_bookings(out, pid, patient, booked)
    return out


def _patient_available(
    patient: Patient, starts_on: dt.date, days: int, absences: _Absences, booked: _Booked
) -> tuple[core.Window, ...] | None:
    """Days the patient cannot come: their recorded absences and days already holding another
    session of theirs (one dose a day). None when every day is open."""
    blocked = set(absences[(None, patient.pk)])
    for d in booked.others_dosing:
        if d.patient_id == patient.pk:
            blocked.add(local(d.starts_at, d.site).date())
    if not blocked:
        return None
    return tuple(
        core.Window(
            dt.datetime.combine(day, dt.time()),
            dt.datetime.combine(day + dt.timedelta(days=1), dt.time()),
        )
        for day in _days(starts_on, days)
        if day not in blocked
    )


def _add_previous_bookings(out: _Requested, pid: str, patient: Patient, booked: _Booked) -> None:
    """A re-plan starts from the patient's booked sessions: each becomes a previous booking."""
    own = [d for d in booked.previous_dosing if d.patient_id == patient.pk]
    for k, d in enumerate(own):
        # _booked keeps only sessions with a room and a nurse.
        assert d.room_id is not None and d.nurse_id is not None
        out.booked_dosing[(pid, k)] = d
        out.previous_dosing.append(
            DosingBooking(
                pid,
                k,
                f"s{d.site_id}",
                f"r{d.room_id}",
                member_id(d.nurse_id, d.site_id),
                local(d.starts_at, d.site),
                local(d.ends_at, d.site),
            )
        )
        talk = booked.previous_integration.get(d.pk)
        if talk is not None and talk.therapist_id is not None:
            out.booked_integration[(pid, k)] = talk
            out.previous_integration.append(
                IntegrationBooking(
                    pid,
                    k,
                    member_id(talk.therapist_id, d.site_id),
                    "",
                    local(talk.starts_at, d.site),
                    local(talk.ends_at, d.site),
                )
            )


def _policy(lengths: dict[Route, int], windows_hours: list[int]) -> SchedulingPolicy:
    base = SchedulingPolicy()
    return SchedulingPolicy(
        version=base.version,
        session_minutes={**base.session_minutes, **lengths},
        patients_per_nurse=base.patients_per_nurse,
        prescriber_on_site=base.prescriber_on_site,
        integration_min_delay_minutes=base.integration_min_delay_minutes,
        # The strictest window among the plans asked for (retreats: 24 h).
        integration_window_hours=min(windows_hours, default=base.integration_window_hours),
        default_integration_minutes=base.default_integration_minutes,
        default_min_gap_hours=base.default_min_gap_hours,
    )
