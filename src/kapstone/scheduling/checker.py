"""An independent check of every scheduling rule, in plain Python over the booked datetimes.

Shares no code with the solver (no minute grid, no precomputed starts), so a modelling mistake in
one is caught by the other. Returns every violation found, each in the clinic's words.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import Protocol

from kapstone.clinical.access import Role
from kapstone.scheduling.instance import Instance, Site, StaffMember, Window
from kapstone.scheduling.schedule import DosingBooking, IntegrationBooking, Schedule


class Constraint(StrEnum):
    UNKNOWN_REFERENCE = "unknown_reference"
    WHOLE_COURSE = "whole_course"
    SESSION_LENGTH = "session_length"
    ROOM_ROUTE = "room_route"
    ONE_SITE = "one_site"
    ROOM_DOUBLE_BOOKED = "room_double_booked"
    OPENING_HOURS = "opening_hours"
    STAFF_ROLE = "staff_role"
    STAFF_AVAILABILITY = "staff_availability"
    NURSE_CAPACITY = "nurse_capacity"
    PRESCRIBER_ON_SITE = "prescriber_on_site"
    CREDENTIAL = "credential"
    INTEGRATION_WINDOW = "integration_window"
    THERAPIST_DOUBLE_BOOKED = "therapist_double_booked"
    ONE_DOSE_A_DAY = "one_dose_a_day"
    MIN_GAP = "min_gap"
    SESSIONS_PER_WEEK = "sessions_per_week"
    PATIENT_AVAILABILITY = "patient_availability"
    PATIENT_DOUBLE_BOOKED = "patient_double_booked"


@dataclass(frozen=True, slots=True)
class Violation:
    constraint: Constraint
    message: str
    what: tuple[str, ...]


class _FlagFn(Protocol):
    def __call__(self, c: Constraint, message: str, *what: str) -> None: ...


def _fmt(moment: datetime) -> str:
    return moment.strftime("%a %d %b %H:%M")


def _label(b: DosingBooking | IntegrationBooking) -> str:
    kind = "dose" if isinstance(b, DosingBooking) else "integration"
    return f"{b.patient_id} {kind} {b.session_index + 1}"


def _inside(windows: Iterable[Window], start: datetime, end: datetime) -> bool:
    """Whether [start, end) is covered by the union of the windows (they may abut)."""
    cursor = start
    for w in sorted(windows, key=lambda w: w.start):
        if w.start <= cursor < w.end:
            cursor = w.end
        if cursor >= end:
            return True
    return cursor >= end


def _touches(windows: Iterable[Window], start: datetime, end: datetime) -> bool:
    return any(w.start < end and start < w.end for w in windows)


def _on_duty(member: StaffMember, start: datetime, end: datetime) -> bool:
    return _inside(member.availability, start, end) and not _touches(member.breaks, start, end)


def _overlap(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end


def check(instance: Instance, schedule: Schedule) -> list[Violation]:  # noqa: C901, PLR0915 (over the ceiling before it came in; to be split)
    """Every violated rule of ``schedule`` for ``instance``; empty when the schedule is valid."""
    out: list[Violation] = []

    def flag(c: Constraint, message: str, *what: str) -> None:
        out.append(Violation(c, message, tuple(what)))

    requests = {q.patient_id: q for q in instance.requests}
    rooms = {r.id: r for r in instance.rooms}
    staff = {m.id: m for m in instance.staff}
    sites = {s.id: s for s in instance.sites}
    policy = instance.policy

    dosing: list[DosingBooking] = []
    for b in schedule.dosing:
        unknown = [
            f"{kind} {key}"
            for kind, key, table in (
                ("patient", b.patient_id, requests),
                ("room", b.room_id, rooms),
                ("nurse", b.nurse_id, staff),
                ("site", b.site_id, sites),
            )
            if key not in table
        ]
        if unknown:
            flag(Constraint.UNKNOWN_REFERENCE, f"{_label(b)} names unknown {unknown}", _label(b))
        else:
            dosing.append(b)
    integration: list[IntegrationBooking] = []
    for i in schedule.integration:
        if i.patient_id not in requests or i.therapist_id not in staff:
            flag(
                Constraint.UNKNOWN_REFERENCE,
                f"{_label(i)} names an unknown patient or therapist",
                _label(i),
            )
        else:
            integration.append(i)

    _whole_courses(instance, schedule, flag)

    for b in dosing:
        q, room, nurse, site = (
            requests[b.patient_id],
            rooms[b.room_id],
            staff[b.nurse_id],
            sites[b.site_id],
        )
        label = _label(b)
        minutes = policy.session_minutes.get(q.route)
        if minutes is None or b.end - b.start != timedelta(minutes=minutes):
            flag(
                Constraint.SESSION_LENGTH,
                f"{label} lasts {b.end - b.start}; a {q.route.short_label} session takes {minutes} min"
                " including observation",
                label,
            )
        if q.route not in room.routes:
            flag(
                Constraint.ROOM_ROUTE,
                f"{label} is in {room.id}, which is not equipped for {q.route.short_label} dosing",
                label,
                room.id,
            )
        if room.site_id != b.site_id or nurse.site_id != b.site_id:
            flag(
                Constraint.ONE_SITE,
                f"{label} at {site.name} uses {room.id} or nurse {nurse.name} from another site",
                label,
            )
        if q.site_ids is not None and b.site_id not in q.site_ids:
            flag(
                Constraint.ONE_SITE,
                f"{label} is at {site.name}, not a site the patient chose",
                label,
            )
        _open(instance, b.site_id, b.start, b.end, label, flag)
        if nurse.role is not Role.NURSE:
            flag(Constraint.STAFF_ROLE, f"{label} is monitored by {nurse.name}, not a nurse", label)
        if not _on_duty(nurse, b.start, b.end):
            flag(
                Constraint.STAFF_AVAILABILITY,
                f"nurse {nurse.name} is off duty or on a break during {label}"
                f" ({_fmt(b.start)}-{b.end:%H:%M})",
                label,
                nurse.id,
            )
        if policy.prescriber_on_site:
            prescribers = [
                w
                for m in instance.staff
                if m.role is Role.PRESCRIBER and m.site_id == b.site_id
                for w in _duty_windows(m)
            ]
            if not _inside(prescribers, b.start, b.end):
                flag(
                    Constraint.PRESCRIBER_ON_SITE,
                    f"no prescriber is on site at {site.name} throughout {label}"
                    f" ({_fmt(b.start)}-{b.end:%H:%M})",
                    label,
                )
        if q.available is not None and not _inside(q.available, b.start, b.end):
            flag(
                Constraint.PATIENT_AVAILABILITY,
                f"{label} ({_fmt(b.start)}) is outside the patient's availability",
                label,
            )

    dose_of = {(b.patient_id, b.session_index): b for b in dosing}
    for i in integration:
        q, therapist = requests[i.patient_id], staff[i.therapist_id]
        label = _label(i)
        if i.end - i.start != timedelta(minutes=instance.integration_minutes(q)):
            flag(
                Constraint.SESSION_LENGTH,
                f"{label} lasts {i.end - i.start}; the plan asks for"
                f" {instance.integration_minutes(q)} min",
                label,
            )
        if therapist.role is not Role.THERAPIST:
            flag(Constraint.STAFF_ROLE, f"{label} is with {therapist.name}, not a therapist", label)
        if q.modality not in therapist.modalities:
            flag(
                Constraint.CREDENTIAL,
                f"{therapist.name} is not credentialed in {q.modality.label} ({label})",
                label,
                therapist.id,
            )
        if not _on_duty(therapist, i.start, i.end):
            flag(
                Constraint.STAFF_AVAILABILITY,
                f"{therapist.name} is off duty or on a break during {label} ({_fmt(i.start)})",
                label,
                therapist.id,
            )
        _open(instance, therapist.site_id, i.start, i.end, label, flag)
        if q.available is not None and not _inside(q.available, i.start, i.end):
            flag(
                Constraint.PATIENT_AVAILABILITY,
                f"{label} ({_fmt(i.start)}) is outside the patient's availability",
                label,
            )
        dose = dose_of.get((i.patient_id, i.session_index))
        if dose is not None:
            if therapist.site_id != dose.site_id:
                flag(
                    Constraint.ONE_SITE,
                    f"{label} is with {therapist.name} at another site than the dose",
                    label,
                )
            earliest = dose.end + timedelta(minutes=policy.integration_min_delay_minutes)
            latest = dose.end + timedelta(hours=policy.integration_window_hours)
            if not earliest <= i.start <= latest:
                flag(
                    Constraint.INTEGRATION_WINDOW,
                    f"{label} starts {_fmt(i.start)}, not within"
                    f" {policy.integration_window_hours} h after the dose ending {_fmt(dose.end)}",
                    label,
                )

    _rooms(instance, dosing, flag)
    _nurse_capacity(instance, dosing, flag)
    _pairwise(
        Constraint.THERAPIST_DOUBLE_BOOKED,
        "therapist {key} has two integration sessions at once",
        [(i.therapist_id, i.start, i.end, _label(i)) for i in integration],
        flag,
    )
    sessions: list[DosingBooking | IntegrationBooking] = [*dosing, *integration]
    _pairwise(
        Constraint.PATIENT_DOUBLE_BOOKED,
        "patient {key} is booked for two sessions at once",
        [(b.patient_id, b.start, b.end, _label(b)) for b in sessions],
        flag,
    )
    _course_rhythm(instance, dosing, flag)
    return out


def _duty_windows(member: StaffMember) -> list[Window]:
    """Availability with breaks cut out, as windows (for coverage by several prescribers)."""
    pieces = list(member.availability)
    for br in member.breaks:
        cut: list[Window] = []
        for w in pieces:
            if br.end <= w.start or br.start >= w.end:
                cut.append(w)
                continue
            if w.start < br.start:
                cut.append(Window(w.start, br.start))
            if br.end < w.end:
                cut.append(Window(br.end, w.end))
        pieces = cut
    return pieces


def outside_opening(site: Site, start: datetime, end: datetime) -> str | None:
    """Why a session from ``start`` to ``end`` (the site's wall-clock time) cannot be held at the
    site: "closed" on a closure day, "hours" outside the day's opening hours, or None. The one
    rule for the scheduler's checker and for sessions booked by hand."""
    hours = {h.weekday: h for h in site.hours}.get(start.weekday())
    if start.date() in site.closures:
        return "closed"
    if (
        hours is None
        or end.date() != start.date()
        or not hours.opens <= start.time()
        or not end.time() <= hours.closes
    ):
        return "hours"
    return None


def _open(
    instance: Instance, site_id: str, start: datetime, end: datetime, label: str, flag: _FlagFn
) -> None:
    site = instance.site(site_id)
    last_day = instance.start + timedelta(days=instance.days - 1)
    outside = outside_opening(site, start, end)
    if outside == "closed":
        flag(Constraint.OPENING_HOURS, f"{label}: {site.name} is closed on {start:%a %d %b}", label)
    elif outside is not None or not instance.start <= start.date() <= last_day:
        flag(
            Constraint.OPENING_HOURS,
            f"{label} ({_fmt(start)}-{end:%H:%M}) is outside {site.name}'s opening hours"
            " or the scheduling period",
            label,
        )


def _whole_courses(instance: Instance, schedule: Schedule, flag: _FlagFn) -> None:
    everyone = {q.patient_id for q in instance.requests}
    if schedule.admitted & schedule.unadmitted:
        flag(
            Constraint.WHOLE_COURSE,
            "patients both admitted and not admitted",
            *sorted(schedule.admitted & schedule.unadmitted),
        )
    if (schedule.admitted | schedule.unadmitted) != everyone:
        flag(
            Constraint.WHOLE_COURSE,
            "admitted and unadmitted patients must together be exactly the requests",
            *sorted((schedule.admitted | schedule.unadmitted) ^ everyone),
        )
    doses: dict[str, list[int]] = defaultdict(list)
    talks: dict[str, list[int]] = defaultdict(list)
    for b in schedule.dosing:
        doses[b.patient_id].append(b.session_index)
    for i in schedule.integration:
        talks[i.patient_id].append(i.session_index)
    for q in instance.requests:
        pid = q.patient_id
        wanted = list(range(q.doses))
        if pid in schedule.admitted:
            if sorted(doses[pid]) != wanted or sorted(talks[pid]) != wanted:
                flag(
                    Constraint.WHOLE_COURSE,
                    f"{pid} is admitted but has {len(doses[pid])} dosing and {len(talks[pid])}"
                    f" integration sessions booked; the course is {q.doses} of each",
                    pid,
                )
        elif doses[pid] or talks[pid]:
            flag(
                Constraint.WHOLE_COURSE,
                f"{pid} is not admitted yet has sessions booked (whole course or nothing)",
                pid,
            )


def _rooms(instance: Instance, dosing: Sequence[DosingBooking], flag: _FlagFn) -> None:
    by_room: dict[str, list[DosingBooking]] = defaultdict(list)
    for b in dosing:
        by_room[b.room_id].append(b)
    for room_id, bookings in by_room.items():
        room = next(r for r in instance.rooms if r.id == room_id)
        turnover = timedelta(minutes=room.turnover_minutes)
        for a in bookings:
            for w in room.taken:
                if _overlap(a.start, a.end + turnover, w.start, w.end):
                    flag(
                        Constraint.ROOM_DOUBLE_BOOKED,
                        f"{room_id} is booked for {_label(a)} while already taken"
                        f" {_fmt(w.start)}-{w.end:%H:%M}",
                        _label(a),
                    )
        for n, a in enumerate(bookings):
            for b in bookings[n + 1 :]:
                if _overlap(a.start, a.end + turnover, b.start, b.end + turnover):
                    flag(
                        Constraint.ROOM_DOUBLE_BOOKED,
                        f"{room_id} is booked for {_label(a)} and {_label(b)} without"
                        f" {turnover.seconds // 60} min turnover between them",
                        _label(a),
                        _label(b),
                    )


def _nurse_capacity(instance: Instance, dosing: Sequence[DosingBooking], flag: _FlagFn) -> None:
    capacity = instance.policy.patients_per_nurse
    by_nurse: dict[str, list[DosingBooking]] = defaultdict(list)
    for b in dosing:
        by_nurse[b.nurse_id].append(b)
    for nurse_id, bookings in by_nurse.items():
        # The load only rises at a session's start, so checking every start suffices.
        for b in bookings:
            running = [o for o in bookings if o.start <= b.start < o.end]
            if len(running) > capacity:
                flag(
                    Constraint.NURSE_CAPACITY,
                    f"nurse {nurse_id} monitors {len(running)} dosing patients at"
                    f" {_fmt(b.start)}; policy allows {capacity}",
                    *sorted(_label(o) for o in running),
                )
                break


def _pairwise(
    constraint: Constraint,
    message: str,
    items: Sequence[tuple[str, datetime, datetime, str]],
    flag: _FlagFn,
) -> None:
    by_key: dict[str, list[tuple[datetime, datetime, str]]] = defaultdict(list)
    for key, start, end, label in items:
        by_key[key].append((start, end, label))
    for key, spans in by_key.items():
        for n, (s1, e1, l1) in enumerate(spans):
            for s2, e2, l2 in spans[n + 1 :]:
                if _overlap(s1, e1, s2, e2):
                    flag(constraint, message.format(key=key) + f": {l1} and {l2}", l1, l2)


def _course_rhythm(instance: Instance, dosing: Sequence[DosingBooking], flag: _FlagFn) -> None:
    by_patient: dict[str, list[DosingBooking]] = defaultdict(list)
    for b in dosing:
        by_patient[b.patient_id].append(b)
    for pid, bookings in by_patient.items():
        q = instance.request(pid)
        bookings.sort(key=lambda b: b.start)
        if len({b.site_id for b in bookings}) > 1:
            flag(Constraint.ONE_SITE, f"{pid}'s course is split across sites", pid)
        gap = timedelta(minutes=instance.min_gap_minutes(q))
        for a, b in pairwise(bookings):
            if a.start.date() == b.start.date():
                flag(
                    Constraint.ONE_DOSE_A_DAY,
                    f"{pid} has two doses on {a.start:%a %d %b}",
                    _label(a),
                    _label(b),
                )
            if b.start - a.start < gap:
                flag(
                    Constraint.MIN_GAP,
                    f"{pid}'s doses at {_fmt(a.start)} and {_fmt(b.start)} are less than"
                    f" {gap.total_seconds() / 3600:g} h apart",
                    _label(a),
                    _label(b),
                )
        per_week: dict[int, int] = defaultdict(int)
        for b in bookings:
            per_week[(b.start.date() - instance.start).days // 7] += 1
        for week, count in sorted(per_week.items()):
            if count > q.doses_per_week:
                flag(
                    Constraint.SESSIONS_PER_WEEK,
                    f"{pid} has {count} doses in week {week + 1}; the plan allows"
                    f" {q.doses_per_week} a week",
                    pid,
                )
