"""Greedy first-fit: the baseline a coordinator would get by booking patients one at a time.

Patients in request order; for each, the first site where the whole course fits, each dose at the
earliest start that fits (room, nurse, then an integration session, the same therapist first).
No backtracking across doses: a course that does not fit is dropped and its tentative bookings
released.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence

from kapstone.scheduling.instance import Instance, RetreatRequest, validate
from kapstone.scheduling.options import SiteOption, site_options
from kapstone.scheduling.schedule import DosingBooking, IntegrationBooking, Schedule
from kapstone.scheduling.timegrid import DAY, WEEK, Grid

Span = tuple[int, int]


def _free(busy: Sequence[Span], start: int, end: int) -> bool:
    return all(end <= a or b <= start for a, b in busy)


def _peak(busy: Sequence[Span], start: int, end: int) -> int:
    """Most intervals of ``busy`` running at once inside [start, end)."""
    events = sorted(
        (p, d)
        for a, b in busy
        if a < end and start < b
        for p, d in ((max(a, start), 1), (min(b, end), -1))
    )
    peak = level = 0
    for _, d in events:
        level += d
        peak = max(peak, level)
    return peak


class _Book:
    """Who is busy when; tentative bookings are added then kept or dropped per patient."""

    def __init__(self) -> None:
        self.busy: dict[str, list[Span]] = {}

    def get(self, key: str) -> list[Span]:
        return self.busy.setdefault(key, [])


def _course(
    instance: Instance,
    grid: Grid,
    book: _Book,
    request: RetreatRequest,
    option: SiteOption,
) -> tuple[list[DosingBooking], list[IntegrationBooking], list[tuple[str, Span]]] | None:
    length = instance.session_minutes(request)
    ilength = instance.integration_minutes(request)
    gap = instance.min_gap_minutes(request)
    delay = instance.policy.integration_min_delay_minutes
    window = instance.policy.integration_window_hours * 60
    capacity = instance.policy.patients_per_nurse
    nurse_starts = {n: frozenset(v) for n, v in option.nurse_starts.items()}
    added: list[tuple[str, Span]] = []
    own: list[Span] = []
    dosing: list[DosingBooking] = []
    integration: list[IntegrationBooking] = []
    weeks: dict[int, int] = {}
    previous: int | None = None
    usual: str | None = request.preferred_therapist_id

    def add(key: str, span: Span) -> None:
        book.get(key).append(span)
        added.append((key, span))

    for k in range(request.doses):
        placed = False
        for t in option.dose_starts:
            if previous is not None and (t < previous + gap or t // DAY <= previous // DAY):
                continue
            if weeks.get(t // WEEK, 0) >= request.doses_per_week:
                continue
            end = t + length
            if not _free(own, t, end):
                continue
            room = next(
                (
                    r
                    for r in option.rooms
                    if _free(book.get("room:" + r.id), t, end + r.turnover_minutes)
                ),
                None,
            )
            nurse = next(
                (
                    n
                    for n, starts in nurse_starts.items()
                    if t in starts and _peak(book.get("nurse:" + n), t, end) < capacity
                ),
                None,
            )
            if room is None or nurse is None:
                continue
            order = sorted(option.therapist_starts, key=lambda x: x != usual)
            found: tuple[str, int] | None = None
            for therapist in order:
                starts = option.therapist_starts[therapist]
                lo = bisect_left(starts, end + delay)
                hi = bisect_right(starts, end + window)
                busy = book.get("therapist:" + therapist)
                for s in starts[lo:hi]:
                    if _free(busy, s, s + ilength) and _free([*own, (t, end)], s, s + ilength):
                        found = (therapist, s)
                        break
                if found:
                    break
            if found is None:
                continue
            therapist, s = found
            usual = usual if usual in option.therapist_starts else therapist
            add("room:" + room.id, (t, end + room.turnover_minutes))
            add("nurse:" + nurse, (t, end))
            add("therapist:" + therapist, (s, s + ilength))
            own.extend([(t, end), (s, s + ilength)])
            pid = request.patient_id
            dosing.append(
                DosingBooking(
                    pid, k, option.site_id, room.id, nurse, grid.moment(t), grid.moment(end)
                )
            )
            integration.append(
                IntegrationBooking(
                    pid,
                    k,
                    therapist,
                    instance.member(therapist).office,
                    grid.moment(s),
                    grid.moment(s + ilength),
                )
            )
            weeks[t // WEEK] = weeks.get(t // WEEK, 0) + 1
            previous = t
            placed = True
            break
        if not placed:
            for key, span in added:
                book.get(key).remove(span)
            return None
    return dosing, integration, added


def greedy_schedule(instance: Instance) -> Schedule:
    """Book whole courses first-fit, patient by patient, in request order."""
    validate(instance)
    grid = Grid(instance)
    book = _Book()
    for room in instance.rooms:
        book.get("room:" + room.id).extend(grid.windows(room.taken))
    dosing: list[DosingBooking] = []
    integration: list[IntegrationBooking] = []
    admitted: set[str] = set()
    for request in instance.requests:
        for option in site_options(grid, request):
            course = _course(instance, grid, book, request, option)
            if course is not None:
                dosing.extend(course[0])
                integration.extend(course[1])
                admitted.add(request.patient_id)
                break
    everyone = frozenset(q.patient_id for q in instance.requests)
    return Schedule(tuple(dosing), tuple(integration), frozenset(admitted), everyone - admitted)
