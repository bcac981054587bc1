"""The instance as minute offsets from the horizon start, for the solver, greedy and explanations.

The checker deliberately does not use this module: it re-derives every rule from the datetimes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, time, timedelta

from kapstone.clinical.access import Role
from kapstone.scheduling.instance import Instance, RetreatRequest, StaffMember, Window

# Sorted, disjoint, half-open [start, end) minute spans.
Spans = tuple[tuple[int, int], ...]

DAY = 1440
WEEK = 7 * DAY


def normalise(spans: Iterable[tuple[int, int]]) -> Spans:
    merged: list[tuple[int, int]] = []
    for a, b in sorted(s for s in spans if s[1] > s[0]):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return tuple(merged)


def intersect(x: Spans, y: Spans) -> Spans:
    out: list[tuple[int, int]] = []
    i = j = 0
    while i < len(x) and j < len(y):
        a, b = max(x[i][0], y[j][0]), min(x[i][1], y[j][1])
        if a < b:
            out.append((a, b))
        if x[i][1] < y[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def subtract(x: Spans, y: Spans) -> Spans:
    out: list[tuple[int, int]] = []
    for a, b in x:
        cur = a
        for c, d in y:
            if d <= cur or c >= b:
                continue
            if c > cur:
                out.append((cur, c))
            cur = max(cur, d)
        if cur < b:
            out.append((cur, b))
    return tuple(out)


def starts_within(spans: Spans, length: int, slot: int) -> tuple[int, ...]:
    """Slot-aligned starts t with [t, t + length) inside one span."""
    out: list[int] = []
    for a, b in spans:
        t = -(-a // slot) * slot
        while t + length <= b:
            out.append(t)
            t += slot
    return tuple(out)


def covers(spans: Spans, start: int, end: int) -> bool:
    return any(a <= start and end <= b for a, b in spans)


class Grid:
    """Minute-offset views of an instance's calendar, staff duty and patient availability.

    Built once per solve; its tables are read-only afterwards.
    """

    __slots__ = ("cover", "duty", "horizon", "instance", "open", "origin")

    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        self.origin = datetime.combine(instance.start, time())
        self.horizon = instance.days * DAY
        self.open: Mapping[str, Spans] = {s.id: self._site_open(s.id) for s in instance.sites}
        self.duty: Mapping[str, Spans] = {m.id: self._on_duty(m) for m in instance.staff}
        self.cover: Mapping[str, Spans] = {s.id: self._cover(s.id) for s in instance.sites}

    def minutes(self, moment: datetime) -> int:
        return int((moment - self.origin) / timedelta(minutes=1))

    def moment(self, minutes: int) -> datetime:
        return self.origin + timedelta(minutes=minutes)

    def windows(self, windows: Iterable[Window]) -> Spans:
        clipped = (
            (max(0, self.minutes(w.start)), min(self.horizon, self.minutes(w.end))) for w in windows
        )
        return normalise(clipped)

    def _site_open(self, site_id: str) -> Spans:
        site = self.instance.site(site_id)
        hours = {h.weekday: h for h in site.hours}
        spans = []
        for d in range(self.instance.days):
            day = self.instance.start + timedelta(days=d)
            h = hours.get(day.weekday())
            if h is None or day in site.closures:
                continue
            opens = self.minutes(datetime.combine(day, h.opens))
            spans.append((opens, self.minutes(datetime.combine(day, h.closes))))
        return normalise(spans)

    def _on_duty(self, member: StaffMember) -> Spans:
        """When a member can be booked: availability minus breaks, while their site is open."""
        duty = subtract(self.windows(member.availability), self.windows(member.breaks))
        return intersect(duty, self._site_open(member.site_id))

    def _cover(self, site_id: str) -> Spans:
        if not self.instance.policy.prescriber_on_site:
            return self.open[site_id]
        return normalise(s for m in self.staff(site_id, Role.PRESCRIBER) for s in self.duty[m.id])

    def staff(self, site_id: str, role: Role) -> tuple[StaffMember, ...]:
        return tuple(m for m in self.instance.staff if m.site_id == site_id and m.role is role)

    def patient_available(self, request: RetreatRequest) -> Spans:
        if request.available is None:
            return ((0, self.horizon),)
        return self.windows(request.available)

    def dosing_spans(self, request: RetreatRequest, site_id: str) -> Spans:
        """When a patient could be in a dosing chair at a site: open, prescriber on site, free."""
        return intersect(
            intersect(self.open[site_id], self.cover[site_id]), self.patient_available(request)
        )

    def integration_spans(self, request: RetreatRequest, therapist: StaffMember) -> Spans:
        return intersect(self.duty[therapist.id], self.patient_available(request))
