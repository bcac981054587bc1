"""What the scheduler is asked to book: the clinic's calendar, rooms, staff and retreat requests.

Times are naive local datetimes of the clinic; the horizon is ``days`` whole days from ``start``.
Weeks (for "sessions per week") are the 7-day blocks counted from ``start``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time

from kapstone.clinical.access import Modality, Role
from kapstone.clinical.problems import Problem, Refused
from kapstone.clinical.routes import Route
from kapstone.scheduling.policy import SchedulingPolicy


@dataclass(frozen=True, slots=True)
class Window:
    """A span of clock time, [start, end)."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """A site's hours on one weekday (0 = Monday)."""

    weekday: int
    opens: time
    closes: time


@dataclass(frozen=True, slots=True)
class Site:
    id: str
    name: str
    hours: tuple[OpeningHours, ...]
    closures: frozenset[date] = frozenset()


@dataclass(frozen=True, slots=True)
class Room:
    """A dosing room or chair, the routes it is equipped for, and cleaning time between patients.

    ``taken``: times the room is already booked outside this solve (sessions booked earlier, for
    patients not being scheduled now), each window including its turnover.
    """

    id: str
    site_id: str
    routes: frozenset[Route]
    turnover_minutes: int = 15
    taken: tuple[Window, ...] = ()


@dataclass(frozen=True, slots=True)
class StaffMember:
    """A nurse, prescriber or therapist; on duty inside ``availability`` and outside ``breaks``.

    Therapists hold integration sessions in their own ``office`` at their site.
    """

    id: str
    name: str
    role: Role
    site_id: str
    availability: tuple[Window, ...]
    breaks: tuple[Window, ...] = ()
    modalities: frozenset[Modality] = frozenset()
    office: str = ""


@dataclass(frozen=True, slots=True)
class RetreatRequest:
    """One patient's plan to be booked: the whole course or nothing.

    ``min_gap_hours`` is between the starts of consecutive doses; ``available`` None means any
    time the clinic is open.
    """

    patient_id: str
    name: str
    route: Route
    doses: int
    doses_per_week: int
    modality: Modality
    # None: the policy's default.
    integration_minutes: int | None = None
    min_gap_hours: int | None = None
    preferred_therapist_id: str | None = None
    available: tuple[Window, ...] | None = None
    site_ids: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class Instance:
    start: date
    days: int
    sites: tuple[Site, ...]
    rooms: tuple[Room, ...]
    staff: tuple[StaffMember, ...]
    requests: tuple[RetreatRequest, ...]
    policy: SchedulingPolicy = field(default_factory=SchedulingPolicy)
    slot_minutes: int = 15

    def site(self, site_id: str) -> Site:
        return next(s for s in self.sites if s.id == site_id)

    def request(self, patient_id: str) -> RetreatRequest:
        return next(r for r in self.requests if r.patient_id == patient_id)

    def member(self, staff_id: str) -> StaffMember:
        return next(s for s in self.staff if s.id == staff_id)

    def session_minutes(self, request: RetreatRequest) -> int:
        return self.policy.session_minutes[request.route]

    def integration_minutes(self, request: RetreatRequest) -> int:
        if request.integration_minutes is None:
            return self.policy.default_integration_minutes
        return request.integration_minutes

    def min_gap_minutes(self, request: RetreatRequest) -> int:
        hours = request.min_gap_hours
        return 60 * (self.policy.default_min_gap_hours if hours is None else hours)

    def request_sites(self, request: RetreatRequest) -> tuple[str, ...]:
        ids = tuple(s.id for s in self.sites)
        if request.site_ids is None:
            return ids
        return tuple(i for i in ids if i in request.site_ids)


class InstanceError(Refused):
    """The scheduling request cannot be read; ``problems`` lists every fault found."""


_SLOT_CHOICES = (5, 10, 15, 20, 30, 60)


def validate(instance: Instance) -> None:  # noqa: C901, PLR0915 (over the ceiling before it came in; to be split)
    """Raise InstanceError listing every fault; return quietly when the instance is usable."""
    problems: list[Problem] = []

    def bad(where: str, given: object, accepted: str) -> None:
        problems.append(Problem(where, f"got {given!r}", accepted))

    if instance.days < 1:
        bad("days", instance.days, "at least 1")
    if instance.slot_minutes not in _SLOT_CHOICES:
        bad("slot_minutes", instance.slot_minutes, f"one of {_SLOT_CHOICES}")
    policy = instance.policy
    if policy.patients_per_nurse < 1:
        bad("policy.patients_per_nurse", policy.patients_per_nurse, "at least 1")
    if policy.integration_window_hours < 1:
        bad("policy.integration_window_hours", policy.integration_window_hours, "at least 1")
    if policy.default_integration_minutes < 1:
        bad("policy.default_integration_minutes", policy.default_integration_minutes, ">= 1")
    if policy.default_min_gap_hours < 0:
        bad("policy.default_min_gap_hours", policy.default_min_gap_hours, ">= 0")
    if policy.integration_min_delay_minutes < 0:
        bad("policy.integration_min_delay_minutes", policy.integration_min_delay_minutes, ">= 0")
    for route, minutes in policy.session_minutes.items():
        if minutes < 1:
            bad(f"policy.session_minutes[{route}]", minutes, "a positive number of minutes")

    site_ids = [s.id for s in instance.sites]
    _unique("site", site_ids, bad)
    _unique("room", [r.id for r in instance.rooms], bad)
    _unique("staff member", [s.id for s in instance.staff], bad)
    _unique("patient", [r.patient_id for r in instance.requests], bad)
    if not instance.sites:
        bad("sites", (), "at least one site")

    for s in instance.sites:
        for h in s.hours:
            if not 0 <= h.weekday <= 6:
                bad(f"site {s.id} hours", h.weekday, "weekday 0 (Monday) to 6 (Sunday)")
            if h.closes <= h.opens:
                bad(f"site {s.id} hours", f"{h.opens}-{h.closes}", "closing after opening")
        if len({h.weekday for h in s.hours}) != len(s.hours):
            bad(f"site {s.id} hours", "a weekday twice", "one opening span per weekday")
    for r in instance.rooms:
        if r.site_id not in site_ids:
            bad(f"room {r.id} site", r.site_id, f"one of {site_ids}")
        if not r.routes:
            bad(f"room {r.id} routes", "none", "at least one route")
        if r.turnover_minutes < 0:
            bad(f"room {r.id} turnover_minutes", r.turnover_minutes, ">= 0")
        for w in r.taken:
            if w.end <= w.start:
                bad(f"room {r.id} taken", f"{w.start}-{w.end}", "end after start")
    scheduled_roles = {Role.NURSE, Role.PRESCRIBER, Role.THERAPIST}
    for m in instance.staff:
        if m.site_id not in site_ids:
            bad(f"staff {m.id} site", m.site_id, f"one of {site_ids}")
        if m.role not in scheduled_roles:
            bad(f"staff {m.id} role", m.role, "nurse, prescriber or therapist")
        if m.role is Role.THERAPIST and not m.modalities:
            bad(f"staff {m.id} modalities", "none", "a therapist credentialed in a modality")
        for w in (*m.availability, *m.breaks):
            if w.end <= w.start:
                bad(f"staff {m.id} window", f"{w.start}-{w.end}", "end after start")
    staff_ids = {m.id for m in instance.staff}
    for q in instance.requests:
        where = f"patient {q.patient_id}"
        if q.route not in policy.session_minutes:
            bad(f"{where} route", q.route, "a route the policy gives a session length for")
        if q.doses < 1:
            bad(f"{where} doses", q.doses, "at least 1")
        if not 1 <= q.doses_per_week <= 7:
            bad(f"{where} doses_per_week", q.doses_per_week, "1 to 7")
        if q.integration_minutes is not None and q.integration_minutes < 1:
            bad(f"{where} integration_minutes", q.integration_minutes, "positive minutes")
        if q.min_gap_hours is not None and q.min_gap_hours < 0:
            bad(f"{where} min_gap_hours", q.min_gap_hours, ">= 0")
        if q.preferred_therapist_id is not None and q.preferred_therapist_id not in staff_ids:
            bad(f"{where} preferred_therapist_id", q.preferred_therapist_id, "a staff id")
        if q.site_ids is not None and not q.site_ids <= set(site_ids):
            bad(f"{where} site_ids", sorted(q.site_ids), f"a subset of {site_ids}")
        for w in q.available or ():
            if w.end <= w.start:
                bad(f"{where} availability", f"{w.start}-{w.end}", "end after start")
    InstanceError.refuse_if_any(problems)


def _unique(kind: str, ids: list[str], bad: Callable[[str, object, str], None]) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            bad(f"{kind} ids", i, f"each {kind} id once")
        seen.add(i)
