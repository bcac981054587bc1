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
from kapstone.clinical.routes import Route as ClinicalRoute
from kapstone.dosing.models import DosingSession
from kapstone.integration.models import IntegrationSession
from kapstone.patients.models import Patient
from kapstone.plans.selectors import SignedPlan, signed_plan
from kapstone.scheduling import instance as core
from kapstone.scheduling.policy import Route, SchedulingPolicy
from kapstone.scheduling.schedule import DosingBooking, IntegrationBooking, Schedule
from kapstone.timetable.models import (
    Absence,
    Closure,
    OpeningHours,
    RunKind,
    StaffHours,
)
from kapstone.timetable.selectors import (
    ROUTES,
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
    sites = {f"s{s.pk}": s for s in Site.objects.filter(is_active=True).order_by("pk")}
    site_by_pk = {s.pk: k for k, s in sites.items()}
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

    dosing, integration = booked_in(starts_on, days)
    in_scope = set(wanted) if kind == RunKind.REPLAN else set()
    previous_dosing = [
        d
        for d in dosing.filter(patient_id__in=in_scope, plan__isnull=False).order_by("starts_at")
        if d.room_id is not None and d.nurse_id is not None and d.starts_at > now
    ]
    moving = {d.pk for d in previous_dosing}
    previous_integration = {
        i.dosing_session_id: i for i in integration.filter(dosing_session_id__in=moving)
    }
    moving_integration = {i.pk for i in previous_integration.values()}
    others_dosing = [d for d in dosing if d.pk not in moving]
    others_integration = [i for i in integration if i.pk not in moving_integration]

    rooms: dict[str, Room] = {}
    core_rooms = []
    for room in Room.objects.filter(is_active=True, site__in=sites.values()).select_related("site"):
        routes = frozenset(ROUTES[ClinicalRoute(r)] for r in room.routes if r in ROUTES)
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
            core.Room(key, site_by_pk[room.site_id], routes, room.turnover_minutes, taken)
        )

    absences = defaultdict(set)
    for a in Absence.objects.filter(day__gte=starts_on, day__lt=end_day):
        absences[(a.staff_id, a.patient_id)].add(a.day)
    staff: dict[str, StaffUser] = {}
    rows = (
        StaffHours.objects.filter(
            staff__is_active=True,
            staff__role__in=[r.value for r in SCHEDULED_ROLES],
            site__in=sites.values(),
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
        user = staff[key]
        site = member_rows[0].site
        weekly = {r.weekday: r for r in member_rows}
        off = absences[(user.pk, None)]
        availability, breaks = [], []
        for day in _days(starts_on, days):
            row = weekly.get(day.weekday())
            if row is None or day in off:
                continue
            availability.append(_window(day, row.starts, row.ends))
            if row.break_starts is not None and row.break_ends is not None:
                breaks.append(_window(day, row.break_starts, row.break_ends))
        # Sessions they already have (outside this request) keep them busy.
        for d in others_dosing:
            if d.nurse_id == user.pk and d.site_id == site.pk:
                breaks.append(core.Window(local(d.starts_at, site), local(d.ends_at, site)))
        for i in others_integration:
            if i.therapist_id == user.pk:
                breaks.append(core.Window(local(i.starts_at, site), local(i.ends_at, site)))
        role = user.staff_role
        modalities = user.modalities() if role is Role.THERAPIST else frozenset()
        if role is Role.THERAPIST and not modalities:
            continue  # a therapist without a credential cannot hold integration sessions
        core_staff.append(
            core.StaffMember(
                key,
                user.display_name,
                role,
                site_by_pk[site.pk],
                tuple(availability),
                tuple(sorted(breaks, key=lambda w: w.start)),
                modalities,
                f"{user.get_full_name() or user.username}'s office",
            )
        )
        staff[key] = user

    patients: dict[str, Patient] = {}
    plans: dict[str, SignedPlan] = {}
    requests = []
    previous: Schedule | None = None
    booked_dosing: dict[tuple[str, int], DosingSession] = {}
    booked_integration: dict[tuple[str, int], IntegrationSession] = {}
    prev_d: list[DosingBooking] = []
    prev_i: list[IntegrationBooking] = []
    if kind == RunKind.REPLAN:
        counts: dict[int, int] = defaultdict(int)
        for d in previous_dosing:
            counts[d.patient_id] += 1
        candidates = [
            (p, counts[p.pk])
            for p in Patient.objects.filter(pk__in=counts).select_related("home_site")
        ]
    else:
        # A hold placed after the choice is left to the booking service, which refuses it at
        # acceptance (and then nothing is booked).
        candidates = [
            (p.patient, p.requested(weeks))
            for p in pending_plans(wanted)
            if p.unschedulable is None
        ]
    lengths: dict[Route, int] = {}
    windows_hours: list[int] = []
    for patient, doses in sorted(candidates, key=lambda c: c[0].pk):
        signed = signed_plan(patient)
        if signed is None or not signed.modalities or signed.route not in ROUTES or doses < 1:
            continue
        pid = f"p{patient.pk}"
        site_key = site_by_pk.get(patient.home_site_id)
        if site_key is None:
            continue
        patients[pid] = patient
        plans[pid] = signed
        template = signed.template
        route = ROUTES[signed.route]
        # Chair time from the plan's program (preparation, dosing, observation); the longest when
        # two programs share a route.
        lengths[route] = max(lengths.get(route, 0), signed.session_length.total_minutes)
        windows_hours.append(template.integration.within_hours)
        preferred = (
            member_id(patient.therapist_id, patient.home_site_id)
            if patient.therapist_id is not None
            else None
        )
        # Days the patient cannot come: their recorded absences and days already holding another
        # session of theirs (one dose a day).
        blocked = set(absences[(None, patient.pk)])
        for d in others_dosing:
            if d.patient_id == patient.pk:
                blocked.add(local(d.starts_at, d.site).date())
        available = None
        if blocked:
            available = tuple(
                core.Window(
                    dt.datetime.combine(day, dt.time()),
                    dt.datetime.combine(day + dt.timedelta(days=1), dt.time()),
                )
                for day in _days(starts_on, days)
                if day not in blocked
            )
        requests.append(
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
                available=available,
                site_ids=frozenset({site_key}),
            )
        )
        if kind == RunKind.REPLAN:
            own = [d for d in previous_dosing if d.patient_id == patient.pk]
            for k, d in enumerate(own):
                booked_dosing[(pid, k)] = d
                prev_d.append(
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
                i = previous_integration.get(d.pk)
                if i is not None and i.therapist_id is not None:
                    booked_integration[(pid, k)] = i
                    prev_i.append(
                        IntegrationBooking(
                            pid,
                            k,
                            member_id(i.therapist_id, d.site_id),
                            "",
                            local(i.starts_at, d.site),
                            local(i.ends_at, d.site),
                        )
                    )
    if kind == RunKind.REPLAN:
        admitted = frozenset(pid for pid, _ in booked_dosing)
        previous = Schedule(tuple(prev_d), tuple(prev_i), admitted, frozenset())
    base = SchedulingPolicy()
    policy = SchedulingPolicy(
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
    instance = core.Instance(
        start=starts_on,
        days=days,
        sites=core_sites,
        rooms=tuple(core_rooms),
        staff=tuple(core_staff),
        requests=tuple(requests),
        policy=policy,
        slot_minutes=15,
    )
    return Built(
        instance=instance,
        previous=previous,
        sites=sites,
        rooms=rooms,
        staff=staff,
        patients=patients,
        plans=plans,
        booked_dosing=booked_dosing,
        booked_integration=booked_integration,
        patient_ids=[p.pk for p in patients.values()],
    )
