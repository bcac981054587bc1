"""Reads for scheduling: the pending plans, and the core's Instance built from the database.

Identifiers in the Instance: ``s<pk>`` sites, ``r<pk>`` rooms, ``u<pk>@s<pk>`` a staff member at a
site (one weekday row each, so nobody is on duty at two sites at once), ``p<pk>`` patients. Times in
the Instance are each site's local wall-clock time, as the core expects.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet
from django.utils import timezone

from kapstone.accounts.models import Room, Site, StaffUser
from kapstone.clinical.access import SEES_EVERY_CHART, Modality, Role
from kapstone.clinical.routes import Route
from kapstone.dosing.models import DosingSession, SessionStatus
from kapstone.integration.models import IntegrationSession, IntegrationStatus
from kapstone.patients.models import Patient
from kapstone.plans.models import PlanSignature
from kapstone.plans.selectors import SignedPlan, signed_plan
from kapstone.safety.selectors import active_hold
from kapstone.scheduling import instance as core
from kapstone.scheduling.checker import outside_opening
from kapstone.timetable.models import (
    Absence,
    Closure,
    FeedToken,
    OpeningHours,
    SolveRun,
    StaffHours,
)

SCHEDULED_ROLES = (Role.NURSE, Role.PRESCRIBER, Role.THERAPIST)


def tz(site: Site) -> ZoneInfo:
    return ZoneInfo(site.time_zone)


def local(moment: dt.datetime, site: Site) -> dt.datetime:
    """An aware moment as the site's naive wall-clock time (what the core reads)."""
    return timezone.localtime(moment, tz(site)).replace(tzinfo=None)


def aware(naive: dt.datetime, site: Site) -> dt.datetime:
    return naive.replace(tzinfo=tz(site))


# --- pending plans ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pending:
    """A patient with a signed plan in force whose course is not fully booked yet."""

    patient: Patient
    signed: SignedPlan
    booked: int  # sessions of this plan booked or held
    held: str | None  # an active dosing hold: the patient cannot be booked until reviewed
    unschedulable: str | None  # why the scheduler cannot take this plan (no modality ...)

    @property
    def remaining(self) -> int:
        return self.signed.sessions - self.booked

    @property
    def selectable(self) -> bool:
        return self.held is None and self.unschedulable is None

    def requested(self, weeks: int) -> int:
        """The sessions asked for in ``weeks``: the rest of the course, or as many as its cadence
        fits in the weeks (the remainder is booked by a later run)."""
        fits = max(1, math.floor(self.signed.sessions_per_week * weeks))
        return min(self.remaining, fits)


def _booked_for_plan(plan_id: int) -> int:
    return DosingSession.objects.filter(
        plan_id=plan_id, status__in=[SessionStatus.BOOKED, SessionStatus.COMPLETED]
    ).count()


def pending_plans(patient_ids: Iterable[int] | None = None) -> list[Pending]:
    """Every patient whose signed plan in force still needs sessions booked, by name."""
    signed_patients = (
        PlanSignature.objects.values_list("plan__patient_id", flat=True).distinct().order_by()
    )
    patients = Patient.objects.filter(pk__in=signed_patients).select_related("home_site")
    if patient_ids is not None:
        patients = patients.filter(pk__in=list(patient_ids))
    out: list[Pending] = []
    for patient in patients.order_by("family_name", "given_name", "pk"):
        signed = signed_plan(patient)
        if signed is None:
            continue
        booked = _booked_for_plan(signed.plan.pk)
        if booked >= signed.sessions:
            continue
        hold = active_hold(patient)
        unschedulable = None
        if not signed.modalities:
            unschedulable = "the plan names no integration modality"
        out.append(
            Pending(
                patient=patient,
                signed=signed,
                booked=booked,
                # Not the hold's reason: the schedule page is front-desk work.
                held="dosing is on hold until a prescriber documents a review"
                if hold is not None
                else None,
                unschedulable=unschedulable,
            )
        )
    return out


# --- what the scheduling request reads (kapstone.timetable.instance builds it) ----------------


def member_id(user_pk: int, site_pk: int) -> str:
    return f"u{user_pk}@s{site_pk}"


def _days(start: dt.date, days: int) -> list[dt.date]:
    return [start + dt.timedelta(days=d) for d in range(days)]


def _horizon(start: dt.date, days: int) -> tuple[dt.datetime, dt.datetime]:
    """Aware bounds wide enough for every site's local days (a day either side)."""
    begin = dt.datetime.combine(start - dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    return begin, begin + dt.timedelta(days=days + 2)


def booked_in(
    start: dt.date, days: int
) -> tuple[QuerySet[DosingSession], QuerySet[IntegrationSession]]:
    begin, end = _horizon(start, days)
    dosing = DosingSession.objects.filter(
        status=SessionStatus.BOOKED, starts_at__lt=end, ends_at__gt=begin
    )
    integration = IntegrationSession.objects.filter(
        status=IntegrationStatus.BOOKED, starts_at__lt=end, ends_at__gt=begin
    )
    return dosing.select_related("site", "room"), integration.select_related("site")


def replan_scope(start: dt.date, days: int, now: dt.datetime) -> list[int]:
    """Patients whose scheduler-booked sessions (with a plan, room and nurse) lie ahead in these
    weeks: a re-plan may move any of them."""
    dosing, _ = booked_in(start, days)
    return sorted(
        set(
            dosing.filter(
                plan__isnull=False, room__isnull=False, nurse__isnull=False, starts_at__gt=now
            ).values_list("patient_id", flat=True)
        )
    )


# --- showing runs ---------------------------------------------------------------------------------


def recent_runs(limit: int = 10) -> list[SolveRun]:
    return list(SolveRun.objects.select_related("created_by", "accepted_by")[:limit])


def patient_label(patient: Patient, user: StaffUser) -> str:
    """The full name for those who may open the chart; initials and MRN for anyone else (a
    prescriber scheduling sees patients outside their care team)."""
    if user.staff_role in SEES_EVERY_CHART or user.pk in patient.care_team_ids():
        return f"{patient.display_name} ({patient.mrn})"
    return f"{initials(patient)} ({patient.mrn})"


def initials(patient: Patient) -> str:
    given = patient.preferred_name or patient.given_name
    return f"{given[:1]}.{patient.family_name[:1]}."


# --- calendars and feeds --------------------------------------------------------------------------


def sessions_for_staff(
    user: StaffUser, since: dt.datetime
) -> tuple[list[DosingSession], list[IntegrationSession]]:
    dosing = (
        DosingSession.objects.filter(Q(nurse=user) | Q(prescriber=user), ends_at__gte=since)
        .select_related("site", "room", "patient")
        .order_by("starts_at")
    )
    integration = (
        IntegrationSession.objects.filter(therapist=user, ends_at__gte=since)
        .select_related("site", "patient")
        .order_by("starts_at")
    )
    return list(dosing), list(integration)


def sessions_for_patient(
    patient: Patient, since: dt.datetime
) -> tuple[list[DosingSession], list[IntegrationSession]]:
    dosing = (
        DosingSession.objects.filter(patient=patient, ends_at__gte=since)
        .select_related("site", "room", "nurse", "prescriber")
        .order_by("starts_at")
    )
    integration = (
        IntegrationSession.objects.filter(patient=patient, ends_at__gte=since)
        .select_related("site", "therapist")
        .order_by("starts_at")
    )
    return list(dosing), list(integration)


def active_feed(
    *, staff: StaffUser | None = None, patient: Patient | None = None
) -> FeedToken | None:
    tokens = FeedToken.objects.filter(revoked_at__isnull=True)
    if staff is not None:
        return tokens.filter(staff=staff).select_related("created_by").first()
    return tokens.filter(patient=patient).select_related("created_by").first()


def feed_for(token_hash: str) -> FeedToken | None:
    return (
        FeedToken.objects.filter(token_hash=token_hash, revoked_at__isnull=True)
        .select_related("staff", "patient")
        .first()
    )


def sites_with_calendar() -> list[dict[str, Any]]:
    """Per active site: its opening hours, closures ahead, rooms and staff hours, for the page."""
    today = timezone.localdate()
    out = []
    for site in Site.objects.filter(is_active=True).order_by("name"):
        out.append(
            {
                "site": site,
                "hours": _week_hours(site),
                "closures": list(Closure.objects.filter(site=site, day__gte=today)),
                "rooms": list(Room.objects.filter(site=site).order_by("name")),
                "staff_hours": list(
                    StaffHours.objects.filter(site=site)
                    .select_related("staff")
                    .order_by("staff__last_name", "staff__first_name", "weekday")
                ),
            }
        )
    return out


def _week_hours(site: Site) -> list[tuple[str, str]]:
    from kapstone.timetable.models import Weekday

    hours = {h.weekday: h for h in OpeningHours.objects.filter(site=site)}
    return [
        (label, f"{hours[v].opens:%H:%M}–{hours[v].closes:%H:%M}" if v in hours else "closed")
        for v, label in Weekday.choices
    ]


def absences_ahead() -> list[Absence]:
    return list(
        Absence.objects.filter(day__gte=timezone.localdate())
        .select_related("staff", "patient", "recorded_by")
        .order_by("day", "pk")
    )


# --- a run's result, for the page -----------------------------------------------------------------


@dataclass
class Booking:
    """One proposed dosing session and its integration, with names, in the site's local time."""

    patient: Patient
    label: str
    short: str
    k: int
    site: Site
    room: Room
    nurse: StaffUser
    prescriber: StaffUser | None
    therapist: StaffUser
    modality: str
    route: str
    starts: dt.datetime
    ends: dt.datetime
    i_starts: dt.datetime
    i_ends: dt.datetime


@dataclass
class Grid:
    """Rows (a room or a staff member) by the horizon's days, each cell the lines to show."""

    title: str
    days: list[dt.date]
    rows: list[tuple[str, list[list[str]]]]


@dataclass
class RunView:
    bookings: list[Booking]
    by_room: Grid
    by_staff: Grid
    by_patient: list[tuple[str, list[Booking]]]
    unadmitted: list[tuple[str, list[str]]]
    moved: list[dict[str, Any]]
    dropped: list[str]


def _hm(a: dt.datetime, b: dt.datetime) -> str:
    return f"{a:%H:%M}–{b:%H:%M}"


def run_view(run: SolveRun, user: StaffUser) -> RunView:
    entries = run.proposal
    ids = {e["patient"] for e in entries} | {int(k) for k in run.unadmitted}
    ids |= {m["patient"] for m in run.changes.get("moved", [])} | set(
        run.changes.get("dropped", [])
    )
    patients = {p.pk: p for p in Patient.objects.filter(pk__in=ids)}
    staff_ids = {e[k] for e in entries for k in ("nurse", "prescriber", "therapist") if e[k]}
    staff = {u.pk: u for u in StaffUser.objects.filter(pk__in=staff_ids)}
    rooms = {r.pk: r for r in Room.objects.filter(pk__in={e["room"] for e in entries})}
    sites = {s.pk: s for s in Site.objects.filter(pk__in={e["site"] for e in entries})}
    bookings = []
    for e in entries:
        site = sites[e["site"]]
        zone = tz(site)
        patient = patients[e["patient"]]

        def at(key: str, e: dict[str, Any] = e, zone: ZoneInfo = zone) -> dt.datetime:
            return dt.datetime.fromisoformat(e[key]).astimezone(zone)

        bookings.append(
            Booking(
                patient=patient,
                label=patient_label(patient, user),
                short=initials(patient),
                k=e["k"],
                site=site,
                room=rooms[e["room"]],
                nurse=staff[e["nurse"]],
                prescriber=staff.get(e["prescriber"]) if e["prescriber"] else None,
                therapist=staff[e["therapist"]],
                modality=Modality(e["modality"]).label,
                route=Route(e["route"]).label,
                starts=at("starts"),
                ends=at("ends"),
                i_starts=at("i_starts"),
                i_ends=at("i_ends"),
            )
        )
    bookings.sort(key=lambda b: (b.starts, b.patient.pk))
    days = _days(run.starts_on, 7 * run.weeks)
    index = {d: n for n, d in enumerate(days)}

    def grid(title: str, keyed: dict[str, list[tuple[dt.date, str]]]) -> Grid:
        rows = []
        for name in sorted(keyed):
            cells: list[list[str]] = [[] for _ in days]
            for day, line in keyed[name]:
                if day in index:
                    cells[index[day]].append(line)
            rows.append((name, cells))
        return Grid(title, days, rows)

    room_cells: dict[str, list[tuple[dt.date, str]]] = defaultdict(list)
    staff_cells: dict[str, list[tuple[dt.date, str]]] = defaultdict(list)
    for b in bookings:
        room_cells[f"{b.room.name}, {b.site.name}"].append(
            (b.starts.date(), f"{_hm(b.starts, b.ends)} {b.short} {b.route}")
        )
        staff_cells[b.nurse.display_name].append(
            (b.starts.date(), f"{_hm(b.starts, b.ends)} monitoring {b.short}")
        )
        if b.prescriber is not None:
            staff_cells[b.prescriber.display_name].append(
                (b.starts.date(), f"{_hm(b.starts, b.ends)} on site for {b.short}")
            )
        staff_cells[b.therapist.display_name].append(
            (b.i_starts.date(), f"{_hm(b.i_starts, b.i_ends)} integration {b.short}")
        )
    for cells in staff_cells.values():
        cells.sort()
    for cells in room_cells.values():
        cells.sort()
    by_patient: dict[str, list[Booking]] = defaultdict(list)
    for b in bookings:
        by_patient[b.label].append(b)
    moved = []
    for m in run.changes.get("moved", []):
        old = DosingSession.objects.filter(pk=m["old_dosing"]).select_related("site").first()
        new = next((b for b in bookings if b.patient.pk == m["patient"] and b.k == m["k"]), None)
        if old is None or new is None:
            continue
        moved.append(
            {
                "label": patient_label(patients[m["patient"]], user),
                "old": timezone.localtime(old.starts_at, tz(old.site)),
                "new": new,
                "dosing": m["dosing"],
            }
        )
    return RunView(
        bookings=bookings,
        by_room=grid("Room", room_cells),
        by_staff=grid("Staff member", staff_cells),
        by_patient=sorted(by_patient.items()),
        unadmitted=[
            (patient_label(patients[int(pk)], user), reasons)
            for pk, reasons in run.unadmitted.items()
            if int(pk) in patients
        ],
        moved=moved,
        dropped=[patient_label(patients[pk], user) for pk in run.changes.get("dropped", [])],
    )


def schedulable_staff() -> QuerySet[StaffUser]:
    return StaffUser.objects.filter(
        is_active=True, role__in=[r.value for r in SCHEDULED_ROLES]
    ).order_by("last_name", "first_name")


def scheduled_patients(now: dt.datetime, weeks: int = 6) -> QuerySet[Patient]:
    """Patients with scheduler-booked sessions ahead: whose absences a re-plan can work around."""
    ahead = DosingSession.objects.filter(
        status=SessionStatus.BOOKED,
        plan__isnull=False,
        starts_at__gt=now,
        starts_at__lt=now + dt.timedelta(weeks=weeks),
    ).values_list("patient_id", flat=True)
    return Patient.objects.filter(pk__in=ahead).order_by("family_name", "given_name")


# --- sessions booked by hand: the scheduler's calendar and rules ---------------------------------


def calendar_site(site: Site, day: dt.date) -> core.Site | None:
    """The site's opening hours and that day's closure, as the scheduler reads them; None when the
    site has no opening hours set up at all (a clinic not using the calendar yet)."""
    hours = tuple(
        core.OpeningHours(h.weekday, h.opens, h.closes)
        for h in OpeningHours.objects.filter(site=site).order_by("weekday")
    )
    closed = frozenset(Closure.objects.filter(site=site, day=day).values_list("day", flat=True))
    if not hours and not closed:
        return None
    return core.Site(f"s{site.pk}", site.name, hours, closed)


def opening_problem(site: Site, starts_at: dt.datetime, ends_at: dt.datetime) -> str | None:
    """Why a session cannot be held at the site then (a closure, outside its opening hours), in
    the front desk's words; the rule is the scheduler checker's."""
    start, end = local(starts_at, site), local(ends_at, site)
    calendar = calendar_site(site, start.date())
    if calendar is None:
        return None
    outside = outside_opening(calendar, start, end)
    if outside == "closed":
        closure = Closure.objects.filter(site=site, day=start.date()).first()
        why = f" ({closure.reason})" if closure is not None and closure.reason else ""
        return f"{site.name} is closed on {start:%A %-d %B %Y}{why}."
    if outside == "hours":
        day = {h.weekday: h for h in calendar.hours}.get(start.weekday())
        next_day = "" if end.date() == start.date() else " the next day"
        if day is None:
            return f"{site.name} is closed on {start:%A}s."
        return (
            f"{site.name} is open {day.opens:%H:%M}–{day.closes:%H:%M} on {start:%A}s; this "
            f"session would run {start:%H:%M}–{end:%H:%M}{next_day}."
        )
    return None


def room_taken(room: Room, starts_at: dt.datetime, ends_at: dt.datetime) -> DosingSession | None:
    """A booked session holding the room then, its turnover (cleaning) included, as the scheduler
    counts it."""
    turnover = dt.timedelta(minutes=room.turnover_minutes)
    return (
        DosingSession.objects.filter(
            room=room,
            status=SessionStatus.BOOKED,
            starts_at__lt=ends_at + turnover,
            ends_at__gt=starts_at - turnover,
        )
        .order_by("starts_at")
        .first()
    )


def sessions_left(signed: SignedPlan) -> int:
    """Dosing sessions of the plan not booked or held yet."""
    return signed.sessions - _booked_for_plan(signed.plan.pk)


def run_of(run_id: int) -> SolveRun | None:
    """A solve run with who started and who accepted it, or None."""
    return SolveRun.objects.select_related("created_by", "accepted_by").filter(pk=run_id).first()


def closure_of(closure_id: int | None) -> Closure | None:
    return Closure.objects.filter(pk=closure_id).first() if closure_id is not None else None


def room_of(room_id: int | None) -> Room | None:
    return Room.objects.filter(pk=room_id).first() if room_id is not None else None
